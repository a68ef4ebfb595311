"""Constructors accept their own defaults when causal (issue 36, item 4)."""
import pytest
import torch

from asteroid_deepmask.masknn import DualPathRNN
from asteroid_deepmask.masknn.dprnn import DPRNNTrunk
from asteroid_deepmask.masknn.tcn import TCNTrunk


def test_causal_dual_path_rnn_builds_with_its_defaults():
    dual_path = DualPathRNN(64, 2, causal=True)
    assert (dual_path.norm_type, dual_path.bidirectional) == ("cLN", False)
    assert (DualPathRNN(64, 2).norm_type, DualPathRNN(64, 2).bidirectional) == ("gLN", True)


def test_dual_path_rnn_resolves_defaults_as_the_trunk_does():
    for causal in (False, True):
        trunk = DPRNNTrunk(16, 2, bn_chan=8, hid_size=4, chunk_size=10, n_repeats=1, causal=causal)
        dual_path = DualPathRNN(8, 2, hid_size=4, chunk_size=10, n_repeats=1, causal=causal)
        assert (dual_path.norm_type, dual_path.bidirectional) == (trunk.norm_type, trunk.bidirectional)


def test_causal_dual_path_rnn_runs_and_streams():
    torch.manual_seed(0)
    dual_path = DualPathRNN(8, 2, hid_size=4, chunk_size=10, n_repeats=1, causal=True).eval()
    x = torch.randn(1, 8, 35)
    whole = dual_path(x)
    states = dual_path.streaming_state(1, x)
    first, states = dual_path.forward_streaming(x[..., :20], states)
    second, _ = dual_path.forward_streaming(x[..., 20:30], states)
    torch.testing.assert_close(torch.cat([first, second], -1), whole[..., :30], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kwargs,match", [
    (dict(bidirectional=True), "bidirectional=True"),
    (dict(norm_type="gLN"), "norm_type='gLN'"),
    (dict(bidirectional="yes"), "bidirectional must be True or False"),
])
def test_causal_dual_path_rnn_still_refuses_what_looks_ahead(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DualPathRNN(64, 2, causal=True, **kwargs)


def test_causal_tcn_with_a_one_frame_kernel_runs_and_streams():
    torch.manual_seed(0)
    trunk = TCNTrunk(16, 2, n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8, conv_kernel_size=1,
                     causal=True).eval()
    x = torch.randn(1, 16, 20)
    whole = trunk(x)
    assert whole.shape == (1, 2, 8, 20)
    states = trunk.streaming_state(1, x)
    first, states = trunk.forward_streaming(x[..., :7], states)
    second, _ = trunk.forward_streaming(x[..., 7:], states)
    torch.testing.assert_close(torch.cat([first, second], -1), whole, atol=1e-5, rtol=1e-4)
