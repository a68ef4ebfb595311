"""No number in README.md is typed by hand: each stands between markers naming its result record in
docs/results/ (scripts/readme_numbers.py), and this test fails when one disagrees with its record or
names a record or key that does not exist."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from asteroid_deepmask.utils.result_records import read_records

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "readme_numbers.py")


def _load_script():
    spec = importlib.util.spec_from_file_location("readme_numbers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


readme_numbers = _load_script()

RECORD = {"name": "mini2mix_main", "date": "2026-12-06T13:05:00+00:00", "command": "./egs/mini2mix/run.sh",
          "versions": {"torch": "2.11.0"}, "host": {"kind": "AMD EPYC, no AVX-512"},
          "rows": [{"si_sdri_db": 5.5432, "wall_s": 412.3}]}
STREAMING = {"name": "bench_streaming", "rows": [{"model": "causal_mlp_l", "way": "torch", "block_ms": 10.0, "rtf": 0.21},
                                                 {"model": "causal_mlp_l", "way": "onnx", "block_ms": 10.0, "rtf": 0.08}]}


def test_every_number_in_readme_agrees_with_its_record():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    records = read_records(os.path.join(ROOT, "docs", "results"))
    problems = readme_numbers.check(text, records)
    assert not problems, "README.md disagrees with docs/results/ (python scripts/readme_numbers.py rewrites it):\n" + \
        "\n".join(problems)


@pytest.fixture
def folder(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "mini2mix_main.json").write_text(json.dumps(RECORD))
    (results / "bench_streaming.json").write_text(json.dumps(STREAMING))
    return tmp_path


def _readme(folder, body):
    path = folder / "README.md"
    path.write_text(body)
    return path


def _run(folder, readme, *args):
    return subprocess.run([sys.executable, SCRIPT, "--readme", str(readme), "--results", str(folder / "results"), *args],
                          capture_output=True, text=True, cwd=folder)


GOOD = ("SI-SDRi <!-- result mini2mix_main:si_sdri_db -->5.54<!-- /result --> dB in "
        "<!-- result mini2mix_main:rows[0].wall_s|.0f -->412<!-- /result --> s on "
        "<!-- result mini2mix_main:host.kind -->AMD EPYC, no AVX-512<!-- /result -->; RTF "
        "<!-- result bench_streaming:rows[way=onnx,block_ms=10].rtf -->0.08<!-- /result -->.\n")


def test_numbers_that_agree_pass(folder):
    assert readme_numbers.check(GOOD, read_records(folder / "results")) == []
    out = _run(folder, _readme(folder, GOOD), "--check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 numbers, all agree" in out.stdout


def test_a_number_that_disagrees_is_named_and_rewritten(folder):
    readme = _readme(folder, "intro\n" + GOOD.replace("5.54", "5.61").replace(">0.08<", ">0.1<"))
    out = _run(folder, readme, "--check")
    assert out.returncode == 1
    assert "README.md:2: mini2mix_main:si_sdri_db is '5.61', the record says '5.54'" in out.stdout
    assert "rows[way=onnx,block_ms=10].rtf is '0.1', the record says '0.1'" not in out.stdout  # 1 decimal: agrees
    assert readme.read_text().count("5.61") == 1  # --check changes nothing
    out = _run(folder, readme)
    assert out.returncode == 0, out.stdout + out.stderr
    assert readme.read_text() == "intro\n" + GOOD.replace(">0.08<", ">0.1<")
    assert _run(folder, readme, "--check").returncode == 0


@pytest.mark.parametrize("name, problem", [
    ("no_such_record:si_sdri_db", "no record 'no_such_record'"),
    ("mini2mix_main:no_such_key", "no field 'no_such_key'"),
    ("mini2mix_main:rows[3].wall_s", "the record has 1 rows"),
    ("bench_streaming:rows[way=int8].rtf", "matches 0 rows"),
    ("bench_streaming:rtf", "no field 'rtf'"),  # two rows: a bare column is ambiguous
    ("mini2mix_main", "is not RECORD:KEY"),
])
def test_a_marker_naming_a_missing_record_or_key_fails(folder, name, problem):
    readme = _readme(folder, f"x <!-- result {name} -->1.0<!-- /result -->\n")
    for args in (("--check",), ()):
        out = _run(folder, readme, *args)
        assert out.returncode == 1, out.stdout
        assert f"README.md:1: {name}: " in out.stdout and problem in out.stdout, out.stdout
    assert readme.read_text() == f"x <!-- result {name} -->1.0<!-- /result -->\n"
