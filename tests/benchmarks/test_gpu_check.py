"""benchmarks/gpu_check.py on this CPU machine: it says it found no GPU and exits 0; its report lines,
its failures and the checks that can run on the CPU (a training step, Lightning's fit, the skipped
ONNX Runtime CUDA separation) work here as they do on a GPU."""
import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import gpu_check  # noqa: E402  (benchmarks/ is no package)

TINY = dict(n_filters=16, kernel_size=16, stride=8, bn_chan=8, hid_size=8, chunk_size=10, hop_size=5, n_repeats=1)


def _tiny_models():
    from asteroid.models import DPRNNTasNet

    from asteroid_deepmask import DPRNNDeepMask

    torch.manual_seed(0)
    return {"ours": DPRNNDeepMask(n_src=2, **TINY), "asteroid": DPRNNTasNet(n_src=2, mask_act="relu", **TINY)}


def test_without_a_gpu_it_says_so_and_exits_0():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_check.py")], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "gpu_check: no CUDA GPU found (torch.cuda.is_available() is False); nothing to check."


@pytest.mark.parametrize("precision", ["32", "bf16-mixed"])
def test_a_training_step_of_both_models_passes_and_gives_their_ratio(precision, capsys):
    status = gpu_check.check_row(f"train {precision}", gpu_check.training_check, _tiny_models(), "cpu", precision,
                                 batch=2, seconds=0.25, reps=2)["status"]
    line = capsys.readouterr().out
    assert status == "pass" and line.startswith(f"train {precision} ") and " pass " in line, line
    assert "ours " in line and "asteroid " in line and "ms/step, ratio " in line


def test_a_check_that_raises_is_a_failure_line_naming_the_error(capsys):
    status = gpu_check.check_row("train 64", gpu_check.training_check, _tiny_models(), "cpu", "64")["status"]
    line = capsys.readouterr().out.strip()
    assert status == "fail" and line.startswith("train 64") and " fail " in line
    assert line.endswith("ValueError: precision '64'; choose one of 32, 16-mixed, bf16-mixed.")


def test_the_package_training_runs_one_epoch():
    status, detail = gpu_check.fit_check(_tiny_models()["ours"], "cpu", "32", batches=2, seconds=0.25)
    assert status == "pass" and detail.endswith("2 steps"), detail


def test_ddp_and_onnx_on_cuda_are_skipped_when_their_hardware_or_provider_is_missing(tmp_path):
    import onnxruntime

    assert gpu_check.ddp_check(1) == ("skip", "1 GPU visible; DDP needs 2")
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has the CUDA provider")
    assert gpu_check.separate_check(tmp_path / "m.onnx", tmp_path / "a.wav", tmp_path, "cuda", tmp_path) == (
        "skip", "skipped: onnxruntime has no CUDAExecutionProvider")
