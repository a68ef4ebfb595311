"""Every code block of the docs (``docs/**/*.md``) and of README.md runs, so a renamed API or option
breaks this test, not the reader.

- ``python`` blocks run: the blocks of one page in order, in one namespace, in a temporary folder,
  with one torch thread. A block is left out only when the line before its fence is a MyST comment
  ``% skip-test: <reason>`` (a corpus, a network, a GPU the test cannot have).
- ``bash`` / ``console`` / ``sh`` / ``shell`` blocks are checked, not run: every
  ``asteroid-deepmask SUBCOMMAND ...`` line must parse with the CLI's own argparse parser (the
  subcommand exists, each flag is accepted, choices hold); every ``python -m asteroid_deepmask.recipe
  STEP ...`` line with the recipe steps' parser; every ``./egs/<recipe>/*.sh --flag ...`` line must
  name a script that exists and only options its ``--help`` lists; ``./scripts/*.sh`` must exist.
"""
import contextlib
import functools
import glob
import io
import os
import re
import shlex
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
#: Folders of docs/ that hold generated or other people's non-page Markdown.
SKIPPED_FOLDERS = ("_build", "auto_examples", "_templates")
SHELL_LANGS = {"bash", "console", "sh", "shell"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
SKIP = re.compile(r"^\s*%\s*skip-test:\s*(?P<reason>\S.*)$")


def pages():
    """README.md and every Markdown page of docs/ (generated folders left out), as paths from the root."""
    found = ["README.md"]
    for path in sorted(glob.glob(os.path.join(DOCS, "**", "*.md"), recursive=True)):
        rel = os.path.relpath(path, ROOT)
        if not any(part in SKIPPED_FOLDERS for part in rel.split(os.sep)[1:-1]):
            found.append(rel)
    return found


def code_blocks(text):
    """``[(language, code, line number of the fence, skip reason or None)]`` of the fenced blocks of a
    Markdown text; MyST directives (```` ```{name} ````) are left out, and so is what they hold."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        start, body, i = i, [], i + 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and lines[i].strip().strip(fence[0]) == ""):
            body.append(lines[i])
            i += 1
        i += 1
        if info.startswith("{"):  # a directive (toctree, results-table, include...)
            continue
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        skip = SKIP.match(previous)
        blocks.append((info.split()[0].lower() if info else "", textwrap.dedent("\n".join(body)), start + 1,
                       skip["reason"] if skip else None))
    return blocks


def read(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return f.read()


# ----------------------------------------------------------------------------------------- python blocks


def run_python_blocks(page, blocks, folder):
    """Run ``blocks``' python code in order in one namespace, in ``folder``; an error names the page and line."""
    import torch
    from asteroid_deepmask.masknn.heads import HEADS
    from asteroid_deepmask.masknn.trunk import TRUNKS

    namespace = {"__name__": "docs_page_" + re.sub(r"\W", "_", page)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    registered = {registry: dict(registry._classes) for registry in (TRUNKS, HEADS)}  # pages register their own
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for lang, code, line, skip in blocks:
            if lang != "python" or skip:
                continue
            try:
                exec(compile(code, f"{page}:{line}", "exec"), namespace)
            except Exception as error:
                raise AssertionError(f"{page}, the python block at line {line} fails: "
                                     f"{type(error).__name__}: {error}") from error
    finally:
        os.chdir(cwd)
        torch.set_num_threads(threads)
        for registry, classes in registered.items():
            registry._classes = classes


# ------------------------------------------------------------------------------------------ shell blocks


def shell_commands(code):
    """The commands of a shell block: continuation lines joined, prompts (``$``) and comments dropped,
    lines of output (in a ``console`` block, those without a prompt) left out when the block has prompts,
    and each line cut at ``|``, ``&&``, ``||`` and ``;``. Each command is its list of words."""
    joined, pending = [], ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    prompted = any(line.lstrip().startswith("$ ") for line in joined)
    commands = []
    for line in joined:
        line = line.strip()
        if prompted:
            if not line.startswith("$ "):
                continue  # output
            line = line[2:]
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command = []
        for token in lexer:
            if token and set(token) <= set(";&|"):
                commands.append(command)
                command = []
            else:
                command.append(token)
        commands.append(command)
    cleaned = []
    for command in commands:
        while command and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", command[0]) or command[0] in ("time", "exec")):
            command = command[1:]
        if command:
            cleaned.append(command)
    return cleaned


class _ParseError(Exception):
    pass


def _parse(parser, argv):
    """Parse ``argv`` with ``parser``; an error becomes ``_ParseError`` with argparse's message."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exit:
        if exit.code:
            raise _ParseError(err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else str(exit))


@functools.lru_cache(maxsize=None)
def script_options(script):
    """The ``--options`` that a recipe script's ``--help`` lists (egs/tools/parse_options.sh's format)."""
    out = subprocess.run(["bash", script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise _ParseError(f"{script} --help failed: {out.stderr.strip()}")
    return {m.group(1) for m in re.finditer(r"^\s+(--[\w-]+)\s", out.stdout, re.M)} | {"--help"}


def check_command(command):
    """Check one shell command's program and flags; raise ``_ParseError`` naming what is wrong.
    Commands of other programs (pip, arecord, tensorboard...) are not checked."""
    program, args = command[0], command[1:]
    if program == "asteroid-deepmask" or (program.endswith("python") and args[:2] == ["-m", "asteroid_deepmask.cli"]):
        from asteroid_deepmask.cli import build_parser

        _parse(build_parser(), args[2:] if program != "asteroid-deepmask" else args)
        return
    if re.search(r"python[0-9.]*$", program) and args[:2] == ["-m", "asteroid_deepmask.recipe"]:
        from asteroid_deepmask.recipe.steps import _parser

        _parse(_parser(), args[2:])
        return
    script = program[2:] if program.startswith("./") else program
    if script.startswith(("egs/", "scripts/")) and script.endswith(".sh"):
        if not os.path.isfile(os.path.join(ROOT, script)):
            raise _ParseError(f"{script} does not exist")
        if script.startswith("egs/"):
            known = script_options(script)
            for arg in args:
                flag = arg.split("=", 1)[0]
                if flag.startswith("--") and flag not in known:
                    raise _ParseError(f"{script} has no option {flag} (its --help lists {', '.join(sorted(known))})")
        return
    if script.startswith(("benchmarks/", "egs/")) and script.endswith(".py"):
        if not os.path.isfile(os.path.join(ROOT, script)):
            raise _ParseError(f"{script} does not exist")


def check_shell_blocks(page, blocks):
    """Every checked command of ``blocks``' shell code, as ``[(line, command, error or None)]``."""
    results = []
    for lang, code, line, skip in blocks:
        if lang not in SHELL_LANGS or skip:
            continue
        for command in shell_commands(code):
            try:
                check_command(command)
                results.append((line, command, None))
            except _ParseError as error:
                results.append((line, command, str(error)))
    return results


# ----------------------------------------------------------------------------------------------- tests


def pages_with_python():
    """The pages of :func:`pages` that have a Python block to run (the others have nothing to test here)."""
    return [page for page in pages()
            if any(lang == "python" and not skip for lang, _, _, skip in code_blocks(read(page)))]


@pytest.mark.parametrize("page", pages_with_python())
def test_python_blocks_run(page, tmp_path):
    run_python_blocks(page, code_blocks(read(page)), tmp_path)


@pytest.mark.parametrize("page", pages())
def test_shell_commands_exist(page):
    failures = [f"{page}:{line}: `{shlex.join(command)}`: {error}"
                for line, command, error in check_shell_blocks(page, code_blocks(read(page))) if error]
    assert not failures, "\n".join(failures)


def test_skips_say_why():
    """A skipped block names its reason, and skips stay few."""
    skipped = [(page, line, reason) for page in pages() for _, _, line, reason in code_blocks(read(page)) if reason]
    assert all(len(reason) > 5 for _, _, reason in skipped)
    assert len(skipped) <= 12, skipped


FAKE_PAGE = """\
# A page that fell behind the code

```bash
asteroid-deepmask separate --model m.onnx mix.wav -o out/ --window-seconds 8
./egs/mini2mix/run.sh --stage 2 --no-such-option 1
./egs/no_such_recipe/run.sh
asteroid-deepmask seperate --model m mix.wav -o out/
```

% skip-test: needs the WSJ0 corpus
```python
raise RuntimeError("a skipped block does not run")
```

```python
import asteroid_deepmask
asteroid_deepmask.separate_everything()
```

```{results-table} mini2mix_main
```
"""


def test_the_checks_catch_a_renamed_api(tmp_path):
    """The checks fail on a page that names a flag, a recipe option, a script, a subcommand or a function
    that does not exist, and they skip only what a ``% skip-test:`` comment marks."""
    blocks = code_blocks(FAKE_PAGE)
    assert [(lang, skip) for lang, _, _, skip in blocks] == [
        ("bash", None), ("python", "needs the WSJ0 corpus"), ("python", None)]
    errors = [error for _, _, error in check_shell_blocks("fake.md", blocks)]
    assert len(errors) == 4 and all(errors), errors
    assert "--window-seconds" in errors[0] and "--no-such-option" in errors[1]
    assert "does not exist" in errors[2] and "seperate" in errors[3]
    with pytest.raises(AssertionError, match=r"fake\.md, the python block at line 15 fails: AttributeError"):
        run_python_blocks("fake.md", blocks, tmp_path)


def test_the_checks_accept_what_exists():
    ok = code_blocks("```console\n$ ./egs/mini2mix/run.sh --stage 1 --stop-stage=1  # a comment\n"
                     "== stage 1: output, not a command\n$ asteroid-deepmask export --model a -o b.onnx "
                     "--quantize int8 && ./scripts/test.sh -x\n"
                     "$ python -m asteroid_deepmask.recipe compare --exps a b\n```\n")
    results = check_shell_blocks("ok.md", ok)
    assert [error for _, _, error in results] == [None] * 4, results
