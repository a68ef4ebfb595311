"""Silent references and SNR losses (issue 36, item 2): the gate refuses mixtures of mixtures with a silent
part under a loss that scores silence as a constant; thresholded_snr, which the refusal names, does not."""
import copy

import pytest
import torch

from asteroid_deepmask import recipe
from asteroid_deepmask.experiment.schema import check_experiment
from asteroid_deepmask.losses import MixITWrapper

HP = {"model": {"name": "DPRNNDeepMask"}, "data": {"sample_rate": 8000, "segment": 1.0},
      "training": {"batch_size": 2, "max_epochs": 1, "early_stop_patience": 1, "unsupervised_mixit": True},
      "optim": {"lr": 0.001}, "scheduler": {}}


def _hp(share=None, loss=None, unsupervised=True):
    hp = copy.deepcopy(HP)
    hp["training"]["unsupervised_mixit"] = unsupervised
    if share is not None:
        hp["data"]["mixit_less_crowded_share"] = share
    if loss is not None:
        hp["training"]["loss"] = loss
    return hp


@pytest.mark.parametrize("loss", [None, "neg_snr", "neg_sisdr"])  # None: the schema's default, neg_snr
def test_silent_references_with_an_snr_loss_are_refused_in_one_line(loss):
    with pytest.raises(ValueError) as error:
        check_experiment(_hp(share=0.1, loss=loss), "x.yaml")
    message = str(error.value)
    assert "\n" not in message
    assert f"data.mixit_less_crowded_share=0.1 in x.yaml" in message and f"training.loss={loss or 'neg_snr'}" in message
    assert "use training.loss=thresholded_snr" in message and "data.mixit_less_crowded_share=0" in message


@pytest.mark.parametrize("hp", [_hp(share=0.1, loss="thresholded_snr"), _hp(share=0.0, loss="neg_snr"), _hp(),
                                _hp(share=0.1, loss="neg_snr", unsupervised=False)])
def test_what_scores_silence_or_has_none_passes(hp):
    check_experiment(hp, "x.yaml")


def test_recipe_train_refuses_it_before_writing(tiny_experiment, tmp_path, capsys):
    hparams, manifests = tiny_experiment
    exp = tmp_path / "exp"
    sets = ["training.unsupervised_mixit=true", "data.mixit_less_crowded_share=0.2", "training.loss=neg_sisdr"]
    assert recipe.main(["train", "--hparams", hparams, "--manifests", manifests, "--exp", str(exp),
                        *[a for o in sets for a in ("--set", o)]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("recipe train: error: data.mixit_less_crowded_share=0.2")
    assert not exp.exists()


@pytest.mark.parametrize("loss,silent_gradient", [("neg_snr", False), ("neg_sisdr", False), ("thresholded_snr", True)])
def test_which_losses_give_a_silent_reference_a_gradient(loss, silent_gradient):
    """Why the gate names thresholded_snr: the outputs remixed into a silent reference get a gradient from it
    only, and only thresholded_snr gives one."""
    torch.manual_seed(0)
    estimates = torch.randn(1, 4, 800, requires_grad=True)
    mixtures = torch.stack([torch.randn(800), torch.zeros(800)])[None]  # the second mixture is silence
    value, _, assignment = MixITWrapper(loss, require_nonempty=True)(estimates, mixtures, return_est=True)
    value.backward()
    to_silent = assignment[0] == 1
    assert to_silent.any() and not to_silent.all()
    grad = estimates.grad[0, to_silent].abs().max()
    assert bool(grad > 1e-6) == silent_gradient, grad
