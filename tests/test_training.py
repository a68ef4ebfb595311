import os

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from asteroid_deepmask.hparams_io import hparams_dir, load_hparams
from asteroid_deepmask.models import build_model
from asteroid_deepmask.training import SeparationModule, fit

SMALL = ["model.hid_size=8", "model.n_repeats=1", "model.chunk_size=10", "model.hop_size=5", "model.n_filters=16"]


def hparams(name="p4_relu.yaml", *overrides):
    return load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", name), [*SMALL, *overrides])


def loader():
    torch.manual_seed(0)
    sources = torch.randn(8, 2, 640)
    return DataLoader(TensorDataset(sources.sum(1), sources), batch_size=4)


def run(hp, exp_dir):
    module = SeparationModule(build_model(hp["model"]), hp)
    return fit(module, loader(), loader(), str(exp_dir), enable_progress_bar=False, enable_model_summary=False,
               accelerator="cpu")


def test_training_resumes_from_the_last_checkpoint(logged_epochs, tmp_path):
    trainer = run(hparams("p4_relu.yaml", "training.max_epochs=2"), tmp_path)
    assert trainer.current_epoch == 2
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["best.ckpt", "last.ckpt"]
    first = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    trainer = run(hparams("p4_relu.yaml", "training.max_epochs=3"), tmp_path)
    assert trainer.current_epoch == 3 and set().union(*logged_epochs(tmp_path)) == {0, 1, 2}  # earlier logs kept
    resumed = trainer.lightning_module.state_dict()
    assert any(not torch.equal(first[k], resumed[k]) for k in first)  # it trained on from there


@pytest.mark.parametrize("option", ["training.grouping=dynamic", "training.unsupervised_mixit=true"])
def test_dynamic_grouping_and_unsupervised_mixit(tmp_path, option):
    extra = ["model.n_src=4", "model.n_outputs=4"] if "unsupervised" in option else []
    hp = hparams("p4_relu.yaml", "training.max_epochs=1", option, *extra)
    if "unsupervised" in option:
        hp["training"]["grouping"] = "deterministic"
    module = SeparationModule(build_model(hp["model"]), hp)
    mix, sources = next(iter(loader()))
    if "unsupervised" in option:
        sources = torch.randn(4, 4, 640)  # unused by MixIT; validation needs n_src references
    loss = module.training_step((mix, sources), 0)
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in module.model.parameters())


@pytest.mark.parametrize("option,match", [("training.loss=l1", "training.loss='l1'"),
                                          ("training.grouping=random", "training.grouping='random'")])
def test_bad_training_options(option, match):
    hp = hparams("baseline.yaml", option)
    with pytest.raises(ValueError, match=match):
        SeparationModule(build_model(hp["model"]), hp)
