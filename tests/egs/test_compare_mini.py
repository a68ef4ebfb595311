"""egs/mixit/compare_mini.sh end to end on a tiny corpus, with one of the ways of issue 33 (sparse): training with
the sparsity loss, the evaluation of what --active-only keeps, counting on 1, 2 and 3 voices, and the comparison
as a table and a result record."""
import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, "egs", "mixit", "compare_mini.sh")
VOICES = ["ann", "bob", "cat", "dan"]


def _corpus(root, counts):
    """A mini2mix-shaped corpus of noise 'voices' (mini2mix's file names: the voices and their gains), made
    here in a blink instead of synthesised."""
    rng = np.random.default_rng(0)
    for split, count in zip(("tr", "cv", "tt"), counts):
        for i in range(count):
            a, b = VOICES[i % 4], VOICES[(i + 1) % 4]
            name = f"{i:05d}_{a}_-1.00_{b}_1.00.wav"
            sources = (0.1 * rng.standard_normal((2, 2000))).astype(np.float32)
            for folder, wav in (("mix", sources.sum(0)), ("s1", sources[0]), ("s2", sources[1])):
                os.makedirs(os.path.join(root, "wav8k", "min", split, folder), exist_ok=True)
                sf.write(os.path.join(root, "wav8k", "min", split, folder, name), wav, 8000)


def run(tmp, *args):
    cmd = [RUN, "--corpus", str(tmp / "data"), "--labelled-corpus", str(tmp / "labelled"), "--exp", str(tmp / "exp"),
           "--hparams", "hparams/mixit/tiny.yaml", "--seeds", "0", "--stage", "1",
           "--overrides", "data.segment=0.25 training.max_epochs=1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable}, cwd=ROOT)


def test_the_sparse_way_is_trained_scored_counted_and_compared(tmp_path):
    _corpus(str(tmp_path / "data"), (4, 2, 3))
    _corpus(str(tmp_path / "labelled"), (1, 2, 3))
    out = run(tmp_path, "--ways", "sparse", "--sparsity-weight", "0.5")
    assert out.returncode == 0, out.stderr[-3000:]
    exp = tmp_path / "exp" / "sparse_seed0"
    assert yaml.safe_load((exp / "hparams.yaml").read_text())["training"]["sparsity_weight"] == 0.5
    assert "si_sdri_active" in json.loads((exp / "results.json").read_text())["metrics"]
    counting = json.loads((exp / "counting.json").read_text())
    assert counting["name"] == "count_mini" and counting["test_manifest"].endswith("tt.json")
    # three voices: ann+bob and cat+dan each find the other; bob+cat shares a voice with both
    assert [(r["voices"], r["mixtures"]) for r in counting["rows"]] == [(1, 3), (2, 3), (3, 2)]
    record = json.loads((tmp_path / "exp" / "comparison.json").read_text())
    (row,) = record["rows"]
    assert record["name"] == "mixit_comparison" and record["command"].startswith(
        "./egs/mixit/compare_mini.sh --corpus ") and "--ways sparse --sparsity-weight 0.5" in record["command"]
    assert '--overrides "data.segment=0.25 training.max_epochs=1"' in record["command"]
    assert row["model"] == "sparse"
    assert {"si_sdri_best_assignment", "si_sdri_active", "counted_right_3_voices"} <= set(row)
    table = (tmp_path / "exp" / "comparison.md").read_text()
    assert "si_sdri (active)" in table and "| Model | Seeds | 1 voice | 2 voices | 3 voices |" in table


def test_an_unknown_way_is_named_with_the_ways_there_are(tmp_path):
    out = run(tmp_path, "--ways", "sparse students")
    assert out.returncode == 1
    assert ("--ways: unknown way 'students'; choose among supervised unsupervised semi sparse decorrelated power "
            "teacher") in out.stderr
