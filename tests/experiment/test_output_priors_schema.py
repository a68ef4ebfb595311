"""training.sparsity_weight and training.covariance_weight (issue 33): checked by the schema, read by training."""
import copy

import pytest
import torch

from asteroid_deepmask.experiment.schema import check_experiment, with_defaults
from asteroid_deepmask.losses import MixITWrapper, envelope_covariance, rms_sparsity
from asteroid_deepmask.models import build_model
from asteroid_deepmask.training.trainer import SeparationModule

from tiny_hparams import TINY_MODEL

HP = {"model": {**TINY_MODEL, "n_outputs": 4}, "data": {"sample_rate": 8000, "segment": 0.25},
      "training": {"batch_size": 2, "max_epochs": 1, "early_stop_patience": 1, "unsupervised_mixit": True},
      "optim": {"lr": 0.001}, "scheduler": {}}


def _hp(unsupervised=True, **training):
    hp = copy.deepcopy(HP)
    hp["training"].update(unsupervised_mixit=unsupervised, **training)
    return hp


@pytest.mark.parametrize("key", ["sparsity_weight", "covariance_weight"])
@pytest.mark.parametrize("value", [-0.1, "high", True])
def test_a_weight_that_is_no_number_at_least_0_is_refused(key, value):
    with pytest.raises(ValueError, match=rf"^training\.{key}={value!r} in x\.yaml; give a number >= 0 \(0: off\)\.$"):
        check_experiment(_hp(**{key: value}), "x.yaml")


@pytest.mark.parametrize("key", ["sparsity_weight", "covariance_weight"])
def test_a_weight_without_mixit_is_refused_and_zero_passes(key):
    with pytest.raises(ValueError, match=rf"training\.{key}=0\.5 in x\.yaml weighs a loss on the outputs of MixIT "
                                         rf"training: set training\.unsupervised_mixit=true, or training\.{key}=0\."):
        check_experiment(_hp(unsupervised=False, **{key: 0.5}), "x.yaml")
    check_experiment(_hp(unsupervised=False, **{key: 0}), "x.yaml")
    check_experiment(_hp(**{key: 0.5}), "x.yaml")
    assert with_defaults(HP)["training"][key] == 0.0  # older experiment folders: off, the same experiment


def test_the_mixit_loss_adds_the_weighted_losses_on_the_outputs():
    moms, mixtures = torch.randn(2, 2000), torch.randn(2, 2, 2000)
    hp = _hp(loss="thresholded_snr", sparsity_weight=0.5, covariance_weight=2.0)
    module = SeparationModule(build_model(hp["model"]), hp).eval()
    with torch.no_grad():
        outputs = module.model.forward_outputs(moms)
        expected = (MixITWrapper("thresholded_snr")(outputs, mixtures) + 0.5 * rms_sparsity(outputs).mean()
                    + 2.0 * envelope_covariance(outputs, 256).mean())  # 32 ms frames at 8 kHz
        torch.testing.assert_close(module.mixit_loss(moms, mixtures), expected)
        plain = SeparationModule(module.model, _hp(loss="thresholded_snr")).eval()
        torch.testing.assert_close(plain.mixit_loss(moms, mixtures), MixITWrapper("thresholded_snr")(outputs, mixtures))


def test_teacher_is_a_path_or_null_and_needs_mixit_data_alone():
    check_experiment(_hp(teacher=None), "x.yaml")
    check_experiment(_hp(teacher="exp/t/best_model.pth"), "x.yaml")  # whether it exists: checked by training
    with pytest.raises(ValueError, match=r"^training\.teacher='' in x\.yaml; give the path of a trained model"):
        check_experiment(_hp(teacher=""), "x.yaml")
    with pytest.raises(ValueError, match=r"labels the mixtures of unlabeled data: set training\.unsupervised_mixit="
                                         r"true \(its data\), or training\.teacher=null\.$"):
        check_experiment(_hp(unsupervised=False, teacher="t.pth"), "x.yaml")
    with pytest.raises(ValueError, match=r"without training\.supervised_share, training\.sparsity_weight: set "
                                         r"training\.supervised_share=0 and training\.sparsity_weight=0, or "
                                         r"training\.teacher=null\.$"):
        check_experiment(_hp(teacher="t.pth", supervised_share=0.1, sparsity_weight=1.0), "x.yaml")


def test_a_missing_or_unfit_teacher_is_named_before_training(tmp_path):
    with pytest.raises(ValueError, match="training.teacher='.*nothing.pth': no model there; train the teacher first"):
        SeparationModule(build_model(HP["model"]), _hp(teacher=str(tmp_path / "nothing.pth")))
    small = build_model({**TINY_MODEL, "n_outputs": 2})
    torch.save(small.serialize(), tmp_path / "small.pth")
    with pytest.raises(ValueError, match=r"separates 8000 Hz audio into 2 outputs; the model trains at 8000 Hz with 4 "
                                         r"outputs: give a teacher at that rate with at least as many outputs\."):
        SeparationModule(build_model(HP["model"]), _hp(teacher=str(tmp_path / "small.pth")))


def test_a_teacher_is_also_its_experiment_folder(tmp_path):
    teacher = build_model({**TINY_MODEL, "n_outputs": 8})
    (tmp_path / "exp").mkdir()
    torch.save(teacher.serialize(), tmp_path / "exp" / "best_model.pth")
    module = SeparationModule(build_model(HP["model"]), _hp(teacher=str(tmp_path / "exp")))
    torch.testing.assert_close(module._teacher[0].state_dict(), teacher.state_dict())
    with pytest.raises(ValueError, match=r"no model there; train the teacher first .* give its folder or model file"):
        SeparationModule(build_model(HP["model"]), _hp(teacher=str(tmp_path)))


def test_a_segment_too_short_for_two_envelope_frames_is_refused_before_training():
    short = {**_hp(covariance_weight=1.0), "data": {"sample_rate": 8000, "segment": 0.05}}
    with pytest.raises(ValueError, match=r"^training\.covariance_weight=1\.0 in x\.yaml compares energy envelopes "
                                         r"of 32 ms frames, and data\.segment=0\.05 holds fewer than two: set "
                                         r"data\.segment to at least 0\.064 s\.$"):
        check_experiment(short, "x.yaml")
    check_experiment({**short, "data": {"sample_rate": 8000, "segment": 0.064}}, "x.yaml")
    check_experiment({**_hp(), "data": {"sample_rate": 8000, "segment": 0.05}}, "x.yaml")  # no envelope: any segment
