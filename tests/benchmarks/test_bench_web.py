"""benchmarks/bench_web.py's core on a tiny causal DPRNN in headless Chromium: a row per precision and engine,
each engine's time per block from its own runs, native ONNX Runtime the reference of ``vs_native``, the folder's
size from the folder."""
import os
import sys

import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.deployment.browser import chromium
from asteroid_deepmask.utils.errors import SetupError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_web  # noqa: E402  (benchmarks/ is no package)


def test_a_row_per_precision_and_engine_measured_against_native(tmp_path):
    torch.manual_seed(0)
    model = DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10, hop_size=5,
                          n_repeats=1).eval()
    try:
        driver = chromium()
    except SetupError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        rows = bench_web.measure_model(driver, "tiny/causal", model, ["32", "int8"], block_ms=10, seconds=0.5, reps=1,
                                       work=str(tmp_path))
    finally:
        driver.quit()
    assert [(r["precision"], r["engine"]) for r in rows] == [(p, e) for p in ("32", "int8") for e in bench_web.ENGINES]
    for row in rows:
        assert row["block_ms"] == 10 and row["p99_ms"] >= row["median_ms"] > 0
        assert row["rtf"] == pytest.approx(row["median_ms"] / 10)
        assert row["threads"] >= 1 and row["model_mb"] < row["folder_mb"]
    for precision in ("32", "int8"):
        native = next(r for r in rows if r["precision"] == precision and r["engine"] == "native 1 thread")
        assert native["vs_native"] == 1 and native["threads"] == 1
        page = next(r for r in rows if r["precision"] == precision and r["engine"] == "browser 1 thread")
        assert page["threads"] == 1 and page["vs_native"] == pytest.approx(page["median_ms"] / native["median_ms"])
    # the folders hold the runtime (megabytes of WebAssembly) and a model of tens of kilobytes
    assert all(r["folder_mb"] > 5 for r in rows)
