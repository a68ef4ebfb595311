"""benchmarks/bench_streaming.py's core on a tiny causal DPRNN: every way times every block of its
stream, the summary and target lines say what was measured, and the stage profile accounts for a
block's time and leaves the model without hooks."""
import os
import sys

import pytest
import torch

from asteroid_deepmask.deployment.quantization import quantize_int8

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_streaming  # noqa: E402  (benchmarks/ is no package)

BLOCK = 80  # 10 ms at 8 kHz, a multiple of the stride


@pytest.fixture(scope="module")
def tiny():
    """A tiny causal DPRNN, on one thread as the benchmark runs (threads that wait on a busy machine
    would make its blocks 20x slower)."""
    from asteroid_deepmask import DPRNNDeepMask

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10, hop_size=5,
                        n_repeats=1).eval()
    torch.set_num_threads(threads)


def test_every_way_times_every_block_of_its_stream(tiny, tmp_path):
    from asteroid_deepmask.deployment.streaming_export import export_streaming_model

    paths = {way: export_streaming_model(tiny, str(tmp_path / f"{way}{suffix}"), BLOCK, quantize=quantize)
             for way, (suffix, quantize) in bench_streaming.EXPORTED.items()}
    mix = bench_streaming.mixture(1.05)  # the re-run needs a full second before its blocks
    streams = bench_streaming.ways(tiny, BLOCK, paths, rerun_blocks=2, int8_model=quantize_int8(tiny))
    times = bench_streaming.measure({"tiny": streams}, mix, reps=2, warmup=bench_streaming.mixture(0.1))["tiny"]
    n_blocks = mix.shape[-1] // BLOCK
    assert {way: [len(t) for t in rounds] for way, rounds in times.items()} == {
        "torch": [n_blocks] * 2, "torchscript": [n_blocks] * 2, "onnx": [n_blocks] * 2, "int8": [n_blocks] * 2,
        "onnx_int8": [n_blocks] * 2, "rerun": [2, 2]}
    assert all(wall > 0 and cpu >= 0 for rounds in times.values() for t in rounds for wall, cpu in t)
    # the stream without a state computes 1 s of frames for each block: dearer than a step of 10 frames
    walls = {way: sorted(wall for t in rounds for wall, _ in t) for way, rounds in times.items()}
    assert walls["rerun"][0] > walls["torch"][len(walls["torch"]) // 2]


def test_summary_median_p99_and_real_time_factor():
    stats = bench_streaming.summary([[(ms / 1000, ms / 2000) for ms in range(100, 0, -1)]], block_s=0.01)
    assert stats == pytest.approx(dict(median_ms=50.5, p99_ms=99.0, rtf=5.05, cpu_median_ms=25.25, cpu_rtf=2.525,
                                       n_blocks=100))


def test_summary_takes_the_median_of_the_best_round_and_the_p99_of_all():
    calm = [(ms / 1000, ms / 1000) for ms in range(1, 101)]  # median 50.5 ms
    slow = [(2 * wall, 3 * cpu) for wall, cpu in calm]  # a slow spell: median 101 ms
    stats = bench_streaming.summary([slow, calm], block_s=0.1)
    assert stats["median_ms"] == pytest.approx(50.5) and stats["cpu_median_ms"] == pytest.approx(50.5)
    assert stats["p99_ms"] == pytest.approx(196.0) and stats["n_blocks"] == 200  # the 3rd-slowest of 200


def test_target_lines_pass_miss_and_not_measured():
    row = dict(block_ms=bench_streaming.TARGET_BLOCK_MS)
    rows = [dict(row, model="causal_mlp_l", way="torch", rtf=0.2, cpu_rtf=0.1, rerun_ratio=8.0, cpu_rerun_ratio=12.0),
            dict(row, model="causal_baseline", way="int8", speedup=2.5, cpu_speedup=2.4)]
    lines = bench_streaming.target_lines(rows)
    assert [line.split()[0] for line in lines] == ["PASS", "NOT", "NOT", "MISS", "PASS", "NOT", "NOT"]
    assert lines[0].endswith("measured 0.2 (from CPU time instead of wall-clock time: 0.1)")
    assert "ONNX Runtime int8: RTF <= 0.07" in lines[2]
    assert lines[3].endswith("measured 8 (from CPU time instead of wall-clock time: 12)")
    assert "torch int8: speed-up vs torch float32 >= 2x: measured 2.5" in lines[4]


@pytest.mark.parametrize("precision", ["32", "int8"])
def test_stage_profile_accounts_for_the_block_and_removes_its_hooks(tiny, precision):
    model = tiny if precision == "32" else quantize_int8(tiny)
    shares = bench_streaming.stage_ms(model, BLOCK, seconds=0.2)
    stages = {stage: ms for stage, ms, _ in shares}
    assert {"encoder", "trunk RNNs", "trunk other layers", "head", "decoder", "rest"} <= set(stages)
    assert all(ms > 0 for stage, ms in stages.items() if stage != "rest")
    assert sum(share for _, _, share in shares) == pytest.approx(1.0)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_the_limit_is_the_model_s_multiply_adds_at_the_core_s_matrix_product_rate(tiny):
    from asteroid_deepmask.complexity import count_complexity

    assert bench_streaming.model_macs_per_s(tiny) == pytest.approx(1e9 * count_complexity(tiny, 1.0)["macs_run_g"])
    assert 1e8 < bench_streaming.core_macs_per_s(seconds=0.05, size=256) < 1e13  # one thread: 0.1 to 10^4 GMAC/s


def test_profile_rows_name_the_model_precision_and_profile_of_each_part():
    where = {("causal_mlp_l", "float32", "torch stages"): [("rest", 2.0, 0.5), ("trunk RNNs", 1.0, 0.25)],
             ("causal_mlp_l", "int8", "ONNX Runtime operators"): [("DynamicQuantizeLSTM", 0.4, 0.3)]}
    rows = bench_streaming.profile_rows(where)
    assert [(r["precision"], r["profile"], r["part"]) for r in rows] == [
        ("float32", "torch stages", "rest"), ("float32", "torch stages", "trunk RNNs"),
        ("int8", "ONNX Runtime operators", "DynamicQuantizeLSTM")]
    assert {r["model"] for r in rows} == {"causal_mlp_l"} and rows[1]["ms"] == 1.0 and rows[2]["share"] == 0.3
