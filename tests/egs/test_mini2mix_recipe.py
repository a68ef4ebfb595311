import json
import os
import subprocess
import sys

import pytest

from asteroid_deepmask import recipe

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, "egs", "mini2mix", "run.sh")


def bash(script, *args):
    return subprocess.run(["bash", "-c", script, "test", *args], capture_output=True, text=True, cwd=ROOT)


OPTIONS = 'alpha=1; beta_gamma=x; options="alpha beta_gamma"; help_message="usage"; . egs/tools/parse_options.sh; echo "$alpha|$beta_gamma"'


def test_option_parsing():
    assert bash(OPTIONS, "--alpha", "2", "--beta-gamma=y z").stdout.strip() == "2|y z"
    out = bash(OPTIONS, "--help")
    assert out.returncode == 0 and "usage" in out.stdout and "--beta-gamma x" in out.stdout
    out = bash(OPTIONS, "--delta", "3")
    assert out.returncode != 0 and "unknown option --delta" in out.stderr
    out = bash(OPTIONS, "--alpha")
    assert out.returncode != 0 and "needs a value" in out.stderr


def run(tmp, *args):
    env = {**os.environ, "PYTHON": sys.executable}
    cmd = [RUN, "--corpus", str(tmp / "data"), "--manifests", str(tmp / "manifests"), "--exp", str(tmp / "exp"),
           "--mixtures", "8 2 2", "--overrides", "training.max_epochs=1 training.batch_size=4", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mini2mix")
    out = run(tmp)
    assert out.returncode == 0, out.stderr[-2000:]
    return tmp, out


def test_end_to_end(finished):
    tmp, out = finished
    exp = tmp / "exp"
    results = json.loads((exp / "results.json").read_text())
    assert results["dataset"] == "mini2mix" and set(results["metrics"]) == {"si_sdri", "sdri"}
    assert sorted(os.listdir(exp / "hub")) == ["README.md", "config.json", "model.safetensors", "pytorch_model.bin"]
    assert "| si_sdri |" in out.stdout and (exp / "checkpoints" / "last.ckpt").exists()
    assert len(json.loads((tmp / "manifests" / "tr.json").read_text())) == 8
    record = json.loads((exp / "record.json").read_text())  # the run's result record (docs/results/)
    assert record["name"] == "mini2mix_main" and record["command"].startswith(RUN) and record["host"]["cores"] >= 1
    assert record["rows"][0]["si_sdri_db"] == results["summary"]["si_sdri"]["mean"] and record["rows"][0]["wall_s"] > 0
    assert {"date", "command", "versions", "host"} <= set(results)  # results.json holds the record's fields too


def test_rerun_is_idempotent_and_stages_select(finished):
    tmp, _ = finished
    before = {p: os.stat(p).st_mtime_ns for p in (tmp / "exp").rglob("*") if p.is_file() and "hub" not in p.parts}
    out = run(tmp, "--stage", "0", "--stop-stage", "3")
    assert out.returncode == 0 and "skipping" in out.stdout and "== stage 4" not in out.stdout
    after = {p: os.stat(p).st_mtime_ns for p in before}
    assert after == before
    out = run(tmp, "--stage", "4", "--stop-stage", "4")
    assert out.returncode == 0 and "== stage 0" not in out.stdout and "Hub folder written" in out.stdout


def test_stage_3_scores_an_exported_model(finished):
    from asteroid_deepmask.cli import main

    tmp, _ = finished
    (tmp / "exp_onnx").mkdir()
    assert main(["export", "--model", str(tmp / "exp" / "best_model.pth"), "-o", str(tmp / "exp_onnx" / "model.onnx")]) == 0
    out = run(tmp, "--stage", "3", "--stop-stage", "3", "--exp", str(tmp / "exp_onnx"),
              "--eval-model", str(tmp / "exp_onnx" / "model.onnx"))
    assert out.returncode == 0, out.stderr[-2000:]
    scored = json.loads((tmp / "exp_onnx" / "results.json").read_text())
    reference = json.loads((tmp / "exp" / "results.json").read_text())
    assert scored["separator"]["backend"] == "onnxruntime" and scored["separator"]["model"].endswith("model.onnx")
    assert abs(scored["summary"]["si_sdri"]["mean"] - reference["summary"]["si_sdri"]["mean"]) < 0.01


def test_missing_corpus_is_a_clear_error(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    out = subprocess.run([RUN, "--stage", "1", "--corpus", str(tmp_path / "none"), "--manifests", str(tmp_path / "m")],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode != 0 and "must hold wav8k/min/{tr,cv,tt}/mix" in out.stderr


@pytest.fixture(scope="module")
def manifests(tmp_path_factory):
    from asteroid_deepmask.data import make_mini2mix, write_manifests
    from asteroid_deepmask.experiment.hparams import load_hparams

    tmp = tmp_path_factory.mktemp("corpus")
    make_mini2mix(tmp / "data", n_mixtures=(8, 2, 2), min_seconds=0.5)
    write_manifests(tmp / "data", tmp / "manifests", load_hparams(os.path.join(ROOT, "hparams", "mini2mix", "dprnn_mlp.yaml"))["data"])
    return tmp / "manifests"


def train_cmd(manifests, exp, *extra):
    return [sys.executable, "-m", "asteroid_deepmask.recipe", "train",
            "--hparams", os.path.join(ROOT, "hparams", "mini2mix", "dprnn_mlp.yaml"),
            "--manifests", str(manifests), "--exp", str(exp), "--set", "training.batch_size=2",
            "--set", "data.segment=0.25", *extra]


def test_ddp_on_two_cpu_processes(logged_epochs, manifests, tmp_path):
    (tmp_path / "exp" / "checkpoints").mkdir(parents=True)
    (tmp_path / "exp" / "checkpoints" / "last.ckpt").write_text("a run of another version")  # --force removes it
    out = subprocess.run(train_cmd(manifests, tmp_path / "exp", "--cpu-processes", "2", "--set", "training.max_epochs=1",
                                   "--force"), capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "GLOBAL_RANK: 1" in out.stderr + out.stdout or "MEMBER: 2/2" in out.stderr + out.stdout
    assert (tmp_path / "exp" / "best_model.pth").exists() and logged_epochs(tmp_path / "exp") == [[0]]


def test_training_resumes_after_being_killed(logged_epochs, manifests, tmp_path):
    import signal
    import time

    import torch

    exp = tmp_path / "exp"
    proc = subprocess.Popen(train_cmd(manifests, exp, "--set", "training.max_epochs=200"), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = exp / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while time.time() < deadline and not (last.exists() and torch.load(last, weights_only=True)["epoch"] >= 1):
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    epoch = torch.load(last, weights_only=True)["epoch"]
    assert epoch >= 1 and not (exp / "best_model.pth").exists()
    out = subprocess.run(train_cmd(manifests, exp, "--set", f"training.max_epochs={epoch + 2}"),
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = logged_epochs(exp)
    assert runs[-1] and min(runs[-1]) >= epoch  # the second run picked up where the first stopped
    assert (exp / "best_model.pth").exists()


def test_compare_stage_trains_each_seed_and_groups_them_in_one_row(finished):
    import yaml

    tmp, _ = finished
    compare = ["--stage", "5", "--stop-stage", "5", "--compare", "hparams/mini2mix/p4_relu.yaml"]
    out = run(tmp, *compare, "--seeds", "3 x")
    assert out.returncode != 0 and "--seeds takes whole numbers" in out.stderr and not (tmp / "p4_relu_seed3").exists()
    out = run(tmp, *compare, "--seeds", "3 4")
    assert out.returncode == 0, out.stderr[-2000:]
    for seed in (3, 4):
        exp = tmp / f"p4_relu_seed{seed}"
        assert yaml.safe_load((exp / "hparams.yaml").read_text())["training"]["seed"] == seed
        timing = json.loads((exp / "train_time.json").read_text())
        assert timing["train_seconds"] > 0 and timing["resumed"] is False
    assert "| P=4, f=ReLU | 2 |" in (tmp / "comparison.md").read_text()
    timed = (tmp / "p4_relu_seed3" / "train_time.json").stat().st_mtime_ns
    out = run(tmp, *compare, "--seeds", "3 4")  # both trained: skipped, and their times kept
    assert out.returncode == 0 and out.stdout.count("skipping") == 4
    assert (tmp / "p4_relu_seed3" / "train_time.json").stat().st_mtime_ns == timed


@pytest.mark.parametrize("step, option, value", [
    ("librimix", "--limit", "-1"), ("librimix", "--jobs", "0"), ("wsj0mix", "--limit", "0"),
    ("librimix", "--limit", "many"),
])
def test_counts_below_one_are_refused_in_one_line(step, option, value, capsys):
    with pytest.raises(SystemExit) as stop:
        recipe.main([step, option, value])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {option}: {value!r} is not a whole number >= 1" in err, err
