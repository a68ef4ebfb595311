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


def module_level_imports(path):
    """Absolute or relative module names imported at the top of ``path`` (outside every function)."""
    found = set()
    nodes = [ast.parse(open(path).read(), path)]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nodes.extend(ast.iter_child_nodes(node))  # class bodies, `if` and `try` blocks run on import
    return found


def test_models_reach_deployment_only_inside_functions_and_only_its_model_level_parts():
    """docs/contributing/architecture.md: `model.streamer()`, `model.export()`, `save_pretrained(onnx=...)` and
    `save_pretrained(web=True)` import the export, streaming step and page of deployment/ when called; importing models never loads deployment/,
    and those deployment modules never import models."""
    modules = _modules()
    graph = import_graph()
    allowed = {f"{PACKAGE}.deployment.{name}" for name in ("export", "quantization", "streaming", "streaming_export",
                                                                   "web", "web_runtime")}
    for name, path in modules.items():
        if name.startswith(f"{PACKAGE}.models"):
            assert not any("deployment" in target for target in module_level_imports(path)), name
            assert {t for t in graph[name] if t.startswith(f"{PACKAGE}.deployment")} <= allowed, name
    for name in allowed:
        assert not any(t.startswith(f"{PACKAGE}.models") for t in graph[name]), name


def test_layers_import_downwards():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith(f"{PACKAGE}.masknn"):
            assert not any(t.startswith(f"{PACKAGE}.models") for t in targets), (module, targets)
        if module.startswith(f"{PACKAGE}.models"):
            banned = {f"{PACKAGE}.hub", f"{PACKAGE}.complexity", f"{PACKAGE}.cli", f"{PACKAGE}.recipe"}
            assert not targets & banned, (module, targets & banned)
