import itertools
import os

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from asteroid_deepmask.data import mixtures_of_mixtures
from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
from asteroid_deepmask.models import build_model
from asteroid_deepmask.training.trainer import SeparationModule, fit

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
    assert trainer.current_epoch == 2 and trainer.global_step == 4  # 2 epochs of 2 batches
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["best.ckpt", "last.ckpt"]
    saved = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    trainer = run(hparams("p4_relu.yaml", "training.max_epochs=3"), tmp_path)
    # The second run trained epoch 2 only, from the saved weights and Adam state: a fresh start
    # would log epochs 0-2 again and leave Adam with 6 / 2 steps instead of 4 + 2.
    assert logged_epochs(tmp_path) == [[0, 1], [2]]
    assert trainer.current_epoch == 3 and trainer.global_step == 6
    resumed = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    steps = {int(state["step"]) for state in resumed["optimizer_states"][0]["state"].values()}
    assert steps == {6} and {int(s["step"]) for s in saved["optimizer_states"][0]["state"].values()} == {4}
    assert any(not torch.equal(saved["state_dict"][k], resumed["state_dict"][k]) for k in saved["state_dict"])


def best_assignment_loss(outputs, refs):
    """Mean over the batch of the least mean negative SNR (Asteroid's ``multisrc_neg_snr``) over every
    assignment of outputs to refs, by enumeration."""
    n_outputs, n_refs = outputs.shape[1], refs.shape[1]
    losses = []
    for assignment in itertools.product(range(n_refs), repeat=n_outputs):
        mixing = torch.zeros(n_refs, n_outputs)
        mixing[list(assignment), range(n_outputs)] = 1
        remix = torch.einsum("kp,bpt->bkt", mixing, outputs)
        ref, est = refs - refs.mean(-1, keepdim=True), remix - remix.mean(-1, keepdim=True)  # Asteroid's zero_mean
        snr = 10 * torch.log10((ref ** 2).sum(-1) / (((ref - est) ** 2).sum(-1) + 1e-8) + 1e-8)
        losses.append(-snr.mean(-1))
    return torch.stack(losses).min(0).values.mean()


def test_dynamic_grouping_is_the_best_assignment_of_the_p_outputs():
    hp = hparams("p4_relu.yaml", "training.grouping=dynamic")
    torch.manual_seed(0)
    module = SeparationModule(build_model(hp["model"]), hp)
    mix, sources = next(iter(loader()))
    loss = module.training_step((mix, sources), 0)
    loss.backward()
    assert all(p.grad is not None for p in module.model.parameters())
    with torch.no_grad():
        expected = best_assignment_loss(module.model.forward_outputs(mix), sources)
        deterministic = module.pit(module.model(mix), sources)
    torch.testing.assert_close(loss.detach(), expected, atol=1e-4, rtol=1e-5)
    assert loss < deterministic - 1e-3  # the contiguous grouping is one of the assignments, not the best here


def test_unsupervised_mixit_remixes_the_outputs_into_the_mixtures():
    hp = hparams("p4_relu.yaml", "training.unsupervised_mixit=true", "model.n_src=4", "model.n_outputs=4")
    torch.manual_seed(0)
    module = SeparationModule(build_model(hp["model"]), hp)
    mix, _ = next(iter(loader()))
    moms, refs = mixtures_of_mixtures(mix)
    loss = module.training_step((moms, refs), 0)
    loss.backward()
    assert all(p.grad is not None for p in module.model.parameters())
    with torch.no_grad():
        expected = best_assignment_loss(module.model(moms), refs)
    torch.testing.assert_close(loss.detach(), expected, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("option,match", [("training.loss=l1", "training.loss='l1'"),
                                          ("training.grouping=random", "training.grouping='random'")])
def test_bad_training_options(option, match):
    hp = hparams("baseline.yaml", option)
    with pytest.raises(ValueError, match=match):
        SeparationModule(build_model(hp["model"]), hp)
