"""Training features of the experiment file: precision, gradient accumulation, data loading workers,
dynamic mixing, the recipes' interpreter, and a log with one line per epoch and no library noise."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader, TensorDataset

from asteroid_deepmask.data import ManifestDataset, write_manifests
from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
from asteroid_deepmask.models import build_model
from asteroid_deepmask.training.trainer import SeparationModule, fit, make_trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["model.n_filters=16", "model.bn_chan=8", "model.hid_size=8", "model.chunk_size=10", "model.hop_size=5",
        "model.n_repeats=1", "model.head_hidden=8", "data.segment=0.25", "training.batch_size=2"]


def tiny_hparams(*overrides):
    return load_hparams(os.path.join(hparams_dir(), "mini2mix", "dprnn_mlp.yaml"), [*TINY, *overrides])


class RecordedLosses(SeparationModule):
    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        self.losses.append(loss)
        return loss


def test_bf16_mixed_trains_in_bf16_with_float32_weights_and_losses(tmp_path):
    hp = tiny_hparams("training.precision=bf16-mixed", "training.max_epochs=1", "training.grouping=dynamic")
    module = RecordedLosses(build_model(hp["model"]), hp)
    outputs, losses = [], []
    module.losses = losses
    module.model.register_forward_hook(lambda model, inputs, out: outputs.append(out.dtype))
    sources = torch.randn(4, 2, 2000)  # 0.25 s at 8 kHz
    data = DataLoader(TensorDataset(sources.sum(1), sources), batch_size=2)
    trainer = fit(module, data, data, str(tmp_path), accelerator="cpu", enable_progress_bar=False,
                  enable_model_summary=False)
    assert trainer.global_step == 2 and trainer.precision == "bf16-mixed"
    assert torch.bfloat16 in outputs  # autocast was on in the forward passes...
    assert [loss.dtype for loss in losses] == [torch.float32] * 2  # ...and off in the MixIT loss
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_losses_are_computed_in_float32_under_autocast():
    hp = tiny_hparams("training.grouping=dynamic")
    module = SeparationModule(build_model(hp["model"]), hp)
    estimates, sources = torch.randn(2, 2, 2000), torch.randn(2, 2, 2000)
    expected = module.mixit(estimates, sources)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = module._float32(module.mixit, estimates.bfloat16(), sources)
    assert loss.dtype == torch.float32
    # only the estimates' rounding to bf16 is left: no bf16 matmul inside the loss
    torch.testing.assert_close(loss, module.mixit(estimates.bfloat16().float(), sources))
    assert not torch.equal(loss, expected)


def test_precision_and_accumulation_reach_the_trainer(tmp_path):
    hp = tiny_hparams("training.precision=bf16-mixed", "training.accumulate_grad_batches=3")
    trainer = make_trainer(hp, str(tmp_path), accelerator="cpu")
    assert trainer.accumulate_grad_batches == 3 and trainer.precision == "bf16-mixed"


def starts(seed, manifest, workers=2):
    """The crop starts drawn by each of the DataLoader's ``workers``: the file is a ramp of ``sample / 8000``."""
    torch.manual_seed(seed)
    loader = DataLoader(ManifestDataset(manifest, segment=100), batch_size=1, num_workers=workers)
    drawn = [round(float(mix[0, 0]) * 8000) for mix, _ in loader]
    return [drawn[w::workers] for w in range(workers)]  # batches come from the workers in turn


def test_loader_workers_draw_their_own_crops_and_a_seed_repeats_them(tmp_path):
    sf.write(tmp_path / "ramp.wav", np.arange(8000, dtype=np.float32) / 8000, 8000, subtype="FLOAT")
    entry = {"mix": str(tmp_path / "ramp.wav"), "sources": [str(tmp_path / "ramp.wav")], "samples": 8000}
    (tmp_path / "tr.json").write_text(json.dumps([{"id": str(i), **entry} for i in range(8)]))
    first = starts(0, str(tmp_path / "tr.json"))
    assert first[0] != first[1]  # one generator made in __init__ would give both workers the same crops
    assert starts(0, str(tmp_path / "tr.json")) == first
    assert starts(1, str(tmp_path / "tr.json")) != first


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    """Manifests of a mini2mix-like corpus: 8 training, 2 validation, 2 test mixtures of 0.3 s, 4 voices."""
    root, rng = tmp_path_factory.mktemp("corpus"), np.random.default_rng(0)
    t = np.arange(2400) / 8000
    for split, count in (("tr", 8), ("cv", 2), ("tt", 2)):
        for i in range(count):
            voices = (i % 4, (i + 1) % 4)
            sources = [0.3 * np.sin(2 * np.pi * (200 + 300 * v) * t) * rng.uniform(0.5, 1, t.size) for v in voices]
            name = f"{i:05d}_voice{voices[0]}_1.00_voice{voices[1]}_-1.00.wav"
            for folder, wav in (("mix", sum(sources)), ("s1", sources[0]), ("s2", sources[1])):
                os.makedirs(root / "wav8k" / "min" / split / folder, exist_ok=True)
                sf.write(root / "wav8k" / "min" / split / folder / name, wav.astype(np.float32), 8000)
    write_manifests(str(root), str(root / "manifests"), tiny_hparams()["data"])
    return root


EPOCH_LINE = re.compile(r"epoch (\d)/2  train_loss -?\d+\.\d\d  val_loss -?\d+\.\d\d  val_si_sdr -?\d+\.\d\d dB  "
                        r"lr 2\.0e-03  \d+\.\d s")


def test_recipe_trains_with_dynamic_mixing_and_workers_into_a_readable_log(tiny_corpus):
    sets = [*TINY, "data.dynamic_mixing=true", "data.dynamic_mixing_speeds=[0.9,1.0]", "training.num_workers=2",
            "training.max_epochs=2"]
    exp = tiny_corpus / "exp"

    def train(*more):
        run = subprocess.run(
            [sys.executable, "-m", "asteroid_deepmask.recipe", "train", "--hparams",
             os.path.join(ROOT, "hparams", "mini2mix", "dprnn_mlp.yaml"), "--manifests", str(tiny_corpus / "manifests"),
             "--exp", str(exp), *[arg for s in [*sets, *more] for arg in ("--set", s)]],
            capture_output=True, text=True, timeout=300, cwd=ROOT,
        )
        assert run.returncode == 0, run.stderr
        log = run.stderr.splitlines()
        noise = [line for line in log if re.search(r"tip|warn|deprecat|litlogger|TPU|num_workers|exists and is not empty",
                                                   line, re.I)]
        assert noise == [], run.stderr
        return log, run.stderr

    log, stderr = train()
    assert [int(m.group(1)) for m in map(EPOCH_LINE.fullmatch, log) if m] == [1, 2], stderr
    assert (exp / "best_model.pth").is_file()
    log, stderr = train("training.max_epochs=3")  # resumed: epoch 3 only, into its own checkpoint folder
    assert [m.group(0).split()[1] for m in map(re.compile(r"epoch \d/\d").match, log) if m] == ["3/3"], stderr


FAKE_PYTHON = "#!/bin/sh\necho '{name} (Python 3.0.0)'\nexit {code}\n"  # exit 1: lacks the package


def choose_python(repo, path_pythons, venv=None, args=(), env=()):
    """What common_options.sh + parse_options.sh choose in a new repository folder ``repo`` when PATH holds
    fake ``path_pythons`` ({name: exit status}) and, if ``venv`` is an exit status, a fake .venv/bin/python."""
    fakes = {repo / "bin" / name: code for name, code in path_pythons.items()}
    if venv is not None:
        fakes[repo / ".venv" / "bin" / "python"] = venv
    for path, code in fakes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FAKE_PYTHON.format(name=path, code=code))
        path.chmod(0o755)
    script = (f'set -euo pipefail; . {ROOT}/egs/tools/common_options.sh; help_message=""; '
              f'. {ROOT}/egs/tools/parse_options.sh; echo "chosen ${{python}}"')
    return subprocess.run(["bash", "-c", script, "run.sh", *args], cwd=repo, capture_output=True, text=True,
                          env={"PATH": f"{repo / 'bin'}:/usr/bin:/bin", **dict(env)}, timeout=30)


def test_recipes_choose_and_name_their_python(tmp_path):
    run = choose_python(tmp_path / "venv", {"python3": 0}, venv=0)
    assert run.stdout.splitlines() == [f"using python: {tmp_path}/venv/.venv/bin/python (Python 3.0.0)",
                                       "chosen .venv/bin/python"]
    run = choose_python(tmp_path / "active_env", {"python3": 0})  # no .venv: the activated environment's
    assert run.stdout.splitlines() == [f"using python: {tmp_path}/active_env/bin/python3 (Python 3.0.0)",
                                       "chosen python3"]
    run = choose_python(tmp_path / "first_with_package", {"python3": 1, "python": 0}, venv=1)
    assert run.stdout.splitlines()[-1] == "chosen python"
    run = choose_python(tmp_path / "env_var", {"python3": 0, "other": 0}, venv=0,
                        env={"PYTHON": str(tmp_path / "env_var" / "bin" / "other")})
    assert run.stdout.splitlines()[-1] == f"chosen {tmp_path}/env_var/bin/other"
    run = choose_python(tmp_path / "asked", {"python3": 0, "python": 1}, venv=0, args=["--python", "python"])
    assert run.returncode == 1 and "chosen" not in run.stdout  # an interpreter asked for is never replaced
    assert "no Python among 'python' can import asteroid_deepmask" in run.stderr and "--python" in run.stderr
    run = choose_python(tmp_path / "none", {"python3": 1})
    assert run.returncode == 1 and "among '.venv/bin/python python3 python'" in run.stderr
