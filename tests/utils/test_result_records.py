"""A record's command is the project's program as a user types it, or None inside another program."""
import os
import sys
import types

import pytest

from asteroid_deepmask.utils import result_records


@pytest.mark.parametrize("argv, module, expected", [
    ([os.path.join(result_records.PROJECT_ROOT, "benchmarks", "bench_x.py"), "--reps", "2"], None,
     "python benchmarks/bench_x.py --reps 2"),
    (["/home/me/.venv/bin/asteroid-deepmask", "complexity", "--paper"], None, "asteroid-deepmask complexity --paper"),
    (["-m", "evaluate", "--exp", "e"], "asteroid_deepmask.recipe.__main__",
     "python -m asteroid_deepmask.recipe evaluate --exp e"),
    (["/usr/bin/pytest", "tests"], None, None),
    (["-m", "tests"], "pytest.__main__", None),
    (["/tmp/my_analysis.py"], None, None),
])
def test_current_command(monkeypatch, argv, module, expected):
    main = types.ModuleType("__main__")
    main.__spec__ = types.SimpleNamespace(name=module) if module else None
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", argv)
    assert result_records.current_command() == expected
