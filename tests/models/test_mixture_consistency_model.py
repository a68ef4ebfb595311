"""Mixture consistency as part of the model: every use of a model trained with it sees projected outputs."""
import pytest
import torch

from asteroid_deepmask import DeepMaskTasNet, DPRNNDeepMask
from asteroid_deepmask.losses import mixture_consistency
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder

TINY = dict(n_src=2, n_outputs=4, hid_size=8, bn_chan=8, chunk_size=10, n_repeats=1, n_filters=16)


@pytest.mark.parametrize("weights", ["uniform", "power"])
def test_the_outputs_sum_to_the_input_and_group_into_the_sources(weights):
    torch.manual_seed(0)
    model = DPRNNDeepMask(**TINY, mixture_consistency=weights).eval()
    plain = DPRNNDeepMask(**TINY).eval()
    plain.load_state_dict(model.state_dict())
    mix = torch.randn(2, 800)
    with torch.no_grad():
        outputs, sources = model.forward_outputs(mix), model(mix)
        expected = mixture_consistency(plain.forward_outputs(mix), mix, weights)  # the hand computation
    assert torch.allclose(outputs, expected, atol=1e-6)
    assert torch.allclose(outputs.sum(1), mix, atol=1e-5)
    assert torch.allclose(sources, torch.stack([outputs[:, :2].sum(1), outputs[:, 2:].sum(1)], 1), atol=1e-6)
    assert not torch.allclose(plain(mix).sum(1), mix, atol=1e-3)  # without it, they do not


def test_it_is_saved_with_the_model_and_round_trips(tmp_path):
    model = DPRNNDeepMask(**TINY, mixture_consistency="uniform")
    assert model.get_model_args()["mixture_consistency"] == "uniform"
    assert "mixture_consistency" not in DPRNNDeepMask(**TINY).get_model_args()  # old configs unchanged
    torch.save(model.serialize(), tmp_path / "m.pth")
    assert DeepMaskEncoderMaskerDecoder.from_pretrained(str(tmp_path / "m.pth")).mixture_consistency == "uniform"
    # a model trained with the projection in the loss, before it moved into the model, loads with it
    torch.save(DPRNNDeepMask(**TINY).serialize(), tmp_path / "old.pth")
    old = DeepMaskEncoderMaskerDecoder.from_pretrained(str(tmp_path / "old.pth"), mixture_consistency="uniform")
    assert old.mixture_consistency == "uniform"
    general = DeepMaskTasNet(n_src=2, trunk_args=dict(hid_size=8, n_repeats=1), mixture_consistency="power")
    assert DeepMaskTasNet(**general.get_model_args()).mixture_consistency == "power"


def test_bad_values_are_refused():
    """(Streaming: ``"uniform"`` streams, ``"power"`` is refused, tests/deployment/test_stream_consistency.py.)"""
    with pytest.raises(ValueError, match="mixture_consistency='yes'; choose None .* uniform, power"):
        DPRNNDeepMask(**TINY, mixture_consistency="yes")
