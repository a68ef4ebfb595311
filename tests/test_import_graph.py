"""The package's imports form a DAG, and the layers import downwards only."""
import ast
import os

import asteroid_deepmask

ROOT = os.path.dirname(asteroid_deepmask.__file__)
PACKAGE = "asteroid_deepmask"


def _modules():
    """``{module name: path}`` of every module of the package."""
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), ROOT)[: -len(".py")].split(os.sep)
                parts = [PACKAGE, *rel[:-1]] + ([] if rel[-1] == "__init__" else [rel[-1]])
                found[".".join(parts)] = os.path.join(folder, name)
    return found


def import_graph():
    """Edges between the package's modules, from every import statement (function-level ones too)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        is_package = path.endswith("__init__.py")
        base = name.split(".") if is_package else name.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(open(path).read(), path)):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                origin = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else node.module
                for alias in node.names:
                    # `from pkg import sub` imports the submodule; `from pkg import name` runs pkg/__init__.
                    targets.add(f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [nxt])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_the_walker_sees_cycles_and_relative_imports():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    graph = import_graph()
    assert "asteroid_deepmask.masknn.trunk" in graph["asteroid_deepmask.masknn.dprnn"]
    assert "asteroid_deepmask.version" in graph["asteroid_deepmask.models.base"]


def test_the_package_imports_form_a_dag():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_layers_import_downwards():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith(f"{PACKAGE}.masknn"):
            assert not any(t.startswith(f"{PACKAGE}.models") for t in targets), (module, targets)
        if module.startswith(f"{PACKAGE}.models"):
            banned = {f"{PACKAGE}.hub", f"{PACKAGE}.complexity", f"{PACKAGE}.cli", f"{PACKAGE}.recipe"}
            assert not targets & banned, (module, targets & banned)
