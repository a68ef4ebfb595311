import math

import pytest
import torch
from asteroid.losses import PITLossWrapper

from asteroid_deepmask.experiment.schema import check_experiment, with_defaults
from asteroid_deepmask.losses import MixITWrapper, pairwise_loss, pairwise_thresholded_snr


def test_the_soft_threshold_by_hand():
    # target x = (3, 4): ||x||^2 = 25; estimate y = (3, 3.5): ||x - y||^2 = 0.25
    x, y = torch.tensor([[[3.0, 4.0]]]), torch.tensor([[[3.0, 3.5]]])
    for snr_max, tau in ((30.0, 1e-3), (10.0, 0.1)):
        expected = 10 * math.log10(0.25 + tau * 25)
        assert pairwise_thresholded_snr(y, x, snr_max=snr_max).item() == pytest.approx(expected, abs=1e-5)
        # the MixIT wrapper by name: one reference, the remix of two outputs (3, 3.5) = (1, 1) + (2, 2.5)
        est = torch.tensor([[[1.0, 1.0], [2.0, 2.5]]])
        assert MixITWrapper("thresholded_snr", snr_max=snr_max)(est, x).item() == pytest.approx(expected, abs=1e-5)
    # past snr_max the loss stops falling: an exact estimate scores 10 log10(tau ||x||^2), a 40 dB one nearly so
    exact = pairwise_thresholded_snr(x, x).item()
    assert exact == pytest.approx(10 * math.log10(1e-3 * 25), abs=1e-4)
    assert pairwise_thresholded_snr(x * (1 + 1e-2), x).item() - exact < 0.5


def test_pairwise_layout_and_pit():
    targets = torch.randn(2, 3, 400)
    est = targets[:, [2, 0, 1]] + 0.01 * torch.randn(2, 3, 400)
    matrix = pairwise_thresholded_snr(est, targets)
    assert matrix.shape == (2, 3, 3)
    hand = 10 * torch.log10((targets[1, 0] - est[1, 2]).pow(2).sum() + 1e-3 * targets[1, 0].pow(2).sum() + 1e-8)
    torch.testing.assert_close(matrix[1, 2, 0], hand)  # [b, estimate i, target j], as Asteroid's
    loss, reordered = PITLossWrapper(pairwise_loss("thresholded_snr"), pit_from="pw_mtx")(est, targets, return_est=True)
    torch.testing.assert_close(reordered, targets, atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="Unknown loss 'snr'; choose one of neg_snr, neg_sisdr, thresholded_snr"):
        pairwise_loss("snr")


def test_schema_keys_of_the_mixit_loss():
    hp = {"model": {}, "data": {"sample_rate": 8000, "segment": 1.0}, "optim": {"lr": 1e-3}, "scheduler": {},
          "training": {"batch_size": 2, "max_epochs": 1, "early_stop_patience": 1, "loss": "thresholded_snr"}}
    check_experiment(hp)
    assert with_defaults(hp)["training"]["snr_max"] == 30.0
    bad = {**hp, "training": {**hp["training"], "snr_max": 0}}
    with pytest.raises(ValueError, match="training.snr_max=0 in the experiment file; .*a number > 0"):
        check_experiment(bad)
    moved = {**hp, "training": {**hp["training"], "mixture_consistency": True}}  # a model argument now
    with pytest.raises(ValueError, match="mixture_consistency"):
        check_experiment(moved)
