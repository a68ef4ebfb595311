"""Training faults: non-finite losses, a full disk, an unreadable checkpoint, and SIGKILL at random moments."""
import csv
import errno
import glob
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from asteroid_deepmask import recipe
from asteroid_deepmask.utils.errors import run_reporting_errors
from asteroid_deepmask.training.faults import AtomicCheckpointIO
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder, build_model
from asteroid_deepmask.training.trainer import SeparationModule, fit
from tiny_hparams import TINY_HPARAMS


def module_and_loaders(mixes, **training):
    """A tiny model on ``mixes`` ``[examples, time]`` (their sources: halves of them), batches of 2."""
    hp = {**TINY_HPARAMS, "training": {**TINY_HPARAMS["training"], "max_epochs": 2, **training}}
    module = SeparationModule(build_model(TINY_HPARAMS["model"]), hp)
    sources = torch.stack([mixes / 2, mixes / 2], 1)
    finite = torch.nan_to_num(sources[:2])
    return module, DataLoader(TensorDataset(mixes, sources), batch_size=2), \
        DataLoader(TensorDataset(finite.sum(1), finite), batch_size=2)


def run_fit(module, train, valid, exp_dir):
    return fit(module, train, valid, str(exp_dir), enable_progress_bar=False, enable_model_summary=False,
               accelerator="cpu")


def adam_steps(module):
    return {int(state["step"]) for state in module.optimizers().optimizer.state.values()}


@pytest.mark.parametrize("accumulate", [1, 2])
def test_a_nan_batch_is_skipped_named_and_counted(accumulate, logged_epochs, tmp_path, capsys):
    mixes = torch.randn(8, 640)
    mixes[2, 100] = float("nan")  # batch 1 of 4
    module, train, valid = module_and_loaders(mixes, accumulate_grad_batches=accumulate)
    with pytest.warns(RuntimeWarning, match="The loss is nan at epoch 0, batch 1: batch skipped"):
        trainer = run_fit(module, train, valid, tmp_path)
    assert trainer.current_epoch == 2
    assert all(torch.isfinite(p).all() for p in module.parameters())  # NaN gradients would have reached them
    if accumulate == 1:
        assert adam_steps(module) == {6}  # 2 epochs x 3 finite batches: the NaN one made no step
    rows = [r for r in csv.DictReader(open(glob.glob(str(tmp_path / "logs" / "*" / "metrics.csv"))[0]))
            if r.get("skipped_batches")]
    assert [float(r["skipped_batches"]) for r in rows] == [1.0, 1.0]  # one per epoch, in the logs
    epochs = [line for line in capsys.readouterr().err.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and all(line.endswith("skipped 1 non-finite batch") for line in epochs), epochs


@pytest.mark.parametrize("limit, message", [
    (10, "no batch of epoch 0 had a finite loss (4 skipped)"),
    (1, "the loss was not finite for 2 batches in a row (up to epoch 0, batch 1; training.max_nonfinite_batches=1)"),
])
def test_a_training_set_of_nans_stops_with_one_line(limit, message, tmp_path, capsys):
    module, train, valid = module_and_loaders(torch.full((8, 640), float("nan")), max_nonfinite_batches=limit)
    with pytest.warns(RuntimeWarning, match="The loss is nan at epoch 0, batch 0"):  # shown as warnings are
        assert run_reporting_errors("recipe train", run_fit, module, train, valid, tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("recipe train: error: Training stopped: ") and message in err[-1]
    assert "lower optim.lr" in err[-1] and "Traceback" not in "".join(err)
    assert not (tmp_path / "checkpoints").exists()  # nothing saved from a model that never trained


def train_args(tiny_experiment, exp, *overrides):
    hparams, manifests = tiny_experiment
    return ["train", "--hparams", hparams, "--manifests", manifests, "--exp", str(exp),
            *[a for o in overrides for a in ("--set", o)]]


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoints(tiny_experiment, tmp_path, capsys,
                                                                        monkeypatch):
    exp = tmp_path / "exp"
    assert recipe.main(train_args(tiny_experiment, exp, "training.max_epochs=1")) == 0
    before = snapshot(exp / "checkpoints")
    assert sorted(before) == ["best.ckpt", "last.ckpt"]
    real_save = torch.save

    def full_disk(obj, f, *args, **kwargs):
        if hasattr(f, "write"):  # the checkpoint writer's open file: half of it fits
            f.write(b"\0" * 1000)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    capsys.readouterr()
    assert recipe.main(train_args(tiny_experiment, exp, "training.max_epochs=2")) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("recipe train: error: no space left on the device while writing ")
    assert str(exp / "checkpoints" / "best.ckpt") in err or str(exp / "checkpoints" / "last.ckpt") in err
    assert snapshot(exp / "checkpoints") == before  # whole, and no partial file beside them


def test_an_unreadable_last_checkpoint_is_refused_by_name(tmp_path, capsys):
    module, train, valid = module_and_loaders(torch.randn(4, 640), max_epochs=1)
    run_fit(module, train, valid, tmp_path)
    last = tmp_path / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:3000])  # cut short, as by a kill under a non-atomic writer
    module, train, valid = module_and_loaders(torch.randn(4, 640), max_epochs=2)
    capsys.readouterr()
    assert run_reporting_errors("recipe train", run_fit, module, train, valid, tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"recipe train: error: Cannot resume training from {last}: torch "
                                               "cannot read it whole (RuntimeError)")
    assert "Move it aside (it is not deleted)" in err[0] and "copy best.ckpt" in err[0]
    assert len(last.read_bytes()) == 3000
    last.write_text("interrupted\n")
    with pytest.raises(ValueError, match="cannot read it whole \\(UnpicklingError\\)"):
        AtomicCheckpointIO().load_checkpoint(str(last))
    assert last.read_text() == "interrupted\n"


# Run in a subprocess that imports the package once, then forks one training run per request:
# a run costs no start-up. Hooks let the test stop a run at the moment it drew: in the middle of
# writing the n-th checkpoint of the run (half of its bytes written), or after its n-th batch.
DRIVER = textwrap.dedent('''
    import os, sys, time, traceback
    import pytorch_lightning as pl
    import torch
    from asteroid_deepmask.training import trainer as training

    hparams, manifests, exp, marks = sys.argv[1:5]
    real_save, real_make_trainer = torch.save, training.make_trainer
    run, stop, counts = None, {}, {"write": 0, "batch": 0}

    def mark(line):
        with open(os.path.join(marks, f"{run}.txt"), "a") as f:
            f.write(line + "\\n")

    def stop_here(kind, what):
        counts[kind] += 1
        if stop.get(kind) == counts[kind]:
            mark(f"stopped {kind} {what}")
            time.sleep(600)  # killed here

    def save(obj, f, *args, **kwargs):
        if not hasattr(f, "write"):
            return real_save(obj, f, *args, **kwargs)
        data = __import__("io").BytesIO()
        real_save(obj, data, *args, **kwargs)
        data = data.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        stop_here("write", f.name)
        f.write(data[len(data) // 2:])

    class Marks(pl.Callback):
        def on_train_start(self, trainer, module):
            mark(f"start {trainer.current_epoch}")

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            stop_here("batch", trainer.current_epoch)

        def on_train_epoch_end(self, trainer, module):
            mark(f"done {trainer.current_epoch}")

    def make_trainer(*args, **kwargs):
        trainer = real_make_trainer(*args, **kwargs)
        trainer.callbacks.insert(0, Marks())
        return trainer

    torch.save, training.make_trainer = save, make_trainer
    print("ready", flush=True)
    for line in sys.stdin:
        run, kind, n = line.split()
        pid = os.fork()
        if pid == 0:
            log = os.open(os.path.join(marks, f"{run}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.dup2(log, 1)
            os.dup2(log, 2)
            stop[kind] = int(n) if kind in counts else None
            code = 0
            try:
                training.train_experiment(hparams, manifests, exp)
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        print(pid, flush=True)
        status = os.waitpid(pid, 0)[1]
        with open(os.path.join(marks, f"{run}.exit"), "w") as f:
            f.write(str(status))
''')


class Runs:
    """Training runs forked by :data:`DRIVER`; ``start`` one, ``kill`` it, read its marks."""

    def __init__(self, tiny_experiment, tmp_path):
        self.marks, self.exp = tmp_path / "marks", tmp_path / "exp"
        self.marks.mkdir()
        (tmp_path / "driver.py").write_text(DRIVER)
        self.driver = subprocess.Popen([sys.executable, str(tmp_path / "driver.py"), *tiny_experiment,
                                        str(self.exp), str(self.marks)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
        assert self.driver.stdout.readline() == "ready\n"
        self.count, self.pid = 0, None

    def start(self, kind, n=0):
        self.count += 1
        self.driver.stdin.write(f"{self.count} {kind} {n}\n")
        self.driver.stdin.flush()
        self.pid = int(self.driver.stdout.readline())

    def lines(self, run=None):
        path = self.marks / f"{run or self.count}.txt"
        return path.read_text().splitlines() if path.exists() else []

    def exit_status(self, timeout):
        path, deadline = self.marks / f"{self.count}.exit", time.monotonic() + timeout
        while not path.exists():
            assert time.monotonic() < deadline, (self.lines(), self.log())
            time.sleep(0.01)
        self.pid = None
        return int(path.read_text())

    def wait_until_stopped(self, timeout=120):
        """True once the run waits at its stop, False if it ended first."""
        deadline = time.monotonic() + timeout
        while not any(line.startswith("stopped") for line in self.lines()):
            if (self.marks / f"{self.count}.exit").exists():
                return False
            assert time.monotonic() < deadline, (self.lines(), self.log())
            time.sleep(0.005)
        return True

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        return os.WIFSIGNALED(self.exit_status(60))

    def log(self, run=None):
        path = self.marks / f"{run or self.count}.log"
        return path.read_text() if path.exists() else ""

    def close(self):
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
        self.driver.stdin.close()
        self.driver.wait(timeout=60)


def test_training_killed_at_random_moments_resumes_and_keeps_readable_checkpoints(tiny_experiment, tmp_path):
    rng = random.Random(15)
    # Kills in the middle of the n-th checkpoint write of a run, after its n-th batch, or at
    # a random time from the start of the run (setup, loading the checkpoint, training, saving). Each
    # kill leaves at most about one epoch done, so that 10 epochs outlast the six kills.
    plan = [("write", rng.randint(1, 2)), ("batch", rng.randint(1, 3)), ("time", rng.uniform(0.05, 0.5)),
            ("write", rng.randint(1, 2)), ("batch", rng.randint(1, 3)), ("write", rng.randint(1, 2))]
    runs = Runs(tiny_experiment, tmp_path)
    kills, during_writes, completed = [], 0, 0
    try:
        for kind, n in plan:
            runs.start(kind, n)
            if kind == "time":
                time.sleep(n)
                stopped = not (runs.marks / f"{runs.count}.exit").exists()
            else:
                stopped = runs.wait_until_stopped()
            if stopped:
                during_writes += any(line.startswith("stopped write") for line in runs.lines())
                assert runs.kill()
                kills.append(runs.count)
            else:
                runs.exit_status(60)
            starts = [int(line.split()[1]) for line in runs.lines() if line.startswith("start")]
            # A run goes on from the epoch after the last checkpoint: at most the epoch in progress is lost.
            assert not starts or completed - 1 <= starts[0] <= completed, (kind, n, runs.lines())
            done = [int(line.split()[1]) + 1 for line in runs.lines() if line.startswith("done")]
            completed = max([completed, *done])
        runs.start("none")
        assert runs.exit_status(300) == 0, runs.log()
        starts = [int(line.split()[1]) for line in runs.lines() if line.startswith("start")]
        assert completed - 1 <= starts[0] <= completed and f"done {TINY_HPARAMS['training']['max_epochs'] - 1}" in \
            runs.lines()
    finally:
        runs.close()
    assert len(kills) >= 5 and during_writes >= 2, (kills, during_writes)
    checkpoints = glob.glob(str(runs.exp / "checkpoints" / "*.ckpt"))
    assert {os.path.basename(p) for p in checkpoints} >= {"best.ckpt", "last.ckpt"}
    for path in checkpoints:  # every checkpoint left reads back whole
        torch.load(path, map_location="cpu", weights_only=True)
    assert torch.load(runs.exp / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == \
        TINY_HPARAMS["training"]["max_epochs"] - 1
    DeepMaskEncoderMaskerDecoder.from_pretrained(str(runs.exp / "best_model.pth"))
