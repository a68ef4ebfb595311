import pytest
import torch
from torch import nn

from asteroid_deepmask.masknn import (
    MASK_ACTIVATIONS,
    LinearMaskerHead,
    MLPMaskerHead,
    group_outputs,
    make_head,
)

HEADS = ["linear", "mlp"]


@pytest.mark.parametrize("kind", HEADS)
@pytest.mark.parametrize("n_src,n_outputs", [(2, 2), (2, 4), (2, 8), (3, 6)])
@pytest.mark.parametrize("mask_act", MASK_ACTIVATIONS)
def test_head_shapes(kind, n_src, n_outputs, mask_act):
    head = make_head(kind, in_chan=12, n_src=n_src, out_chan=10, n_outputs=n_outputs, mask_act=mask_act, hidden=5)
    feats = torch.randn(3, n_outputs, 12, 7)
    assert head.forward_outputs(feats).shape == (3, n_outputs, 10, 7)
    assert head(feats).shape == (3, n_src, 10, 7)


def test_grouping_is_contiguous_sum():
    x = torch.randn(2, 8, 5, 3)
    grouped = group_outputs(x, 2)
    torch.testing.assert_close(grouped[:, 0], x[:, 0:4].sum(1))
    torch.testing.assert_close(grouped[:, 1], x[:, 4:8].sum(1))
    assert group_outputs(x, 8) is x


@pytest.mark.parametrize("kind", HEADS)
def test_head_grouping_matches_outputs(kind):
    head = make_head(kind, in_chan=6, n_src=2, n_outputs=6, hidden=4)
    feats = torch.randn(2, 6, 6, 9)
    torch.testing.assert_close(head(feats), group_outputs(head.forward_outputs(feats), 2))


@pytest.mark.parametrize("shared", [True, False])
def test_identity_overseparation_collapses_to_one_linear_layer(shared):
    """Paper Eq. (2): with f = identity, P FC layers summed per group are one FC layer."""
    in_chan, out_chan, n_src, n_outputs = 12, 10, 2, 8
    head = LinearMaskerHead(in_chan, n_src, out_chan=out_chan, n_outputs=n_outputs, mask_act="none", shared=shared)
    copies = 1 if shared else n_outputs
    per_output_w = head.layers.weight.reshape(copies, out_chan, in_chan).expand(n_outputs, -1, -1)
    per_output_b = head.layers.bias.reshape(copies, out_chan).expand(n_outputs, -1)
    weight = per_output_w.reshape(n_src, n_outputs // n_src, out_chan, in_chan).sum(1)
    bias = per_output_b.reshape(n_src, n_outputs // n_src, out_chan).sum(1)
    inputs = torch.randn(4, n_outputs, in_chan, 20)
    if shared:  # one W for every output: W applied to the sum of the group's inputs
        merged = torch.einsum("ni,bcit->bcnt", per_output_w[0], group_outputs(inputs, n_src))
    else:  # the paper's case: every output sees the same H, and the W_p add up
        shared_h = inputs[:, 0]
        inputs = shared_h.unsqueeze(1).expand(-1, n_outputs, -1, -1)
        merged = torch.einsum("cni,bit->bcnt", weight, shared_h)
    merged = merged + bias[None, :, :, None]
    torch.testing.assert_close(head(inputs), merged, rtol=1e-5, atol=1e-5)
    # With a nonlinear f the same weights do not collapse.
    head.activation = make_head("linear", in_chan, n_src, n_outputs=n_outputs, mask_act="relu").activation
    assert not torch.allclose(head(inputs), merged, atol=1e-3)


@pytest.mark.parametrize("kind", HEADS)
@pytest.mark.parametrize("shared", [True, False])
def test_outputs_are_processed_separately(kind, shared):
    head = make_head(kind, in_chan=6, n_src=2, n_outputs=4, mask_act="sigmoid", hidden=5, shared=shared)
    feats = torch.randn(1, 4, 6, 5)
    moved = feats.clone()
    moved[:, 2] += 1.0
    diff = (head.forward_outputs(moved) - head.forward_outputs(feats)).abs().amax(dim=(0, 2, 3))
    assert diff[2] > 0 and torch.all(diff[[0, 1, 3]] == 0)
    # Per-output layers run as one grouped convolution rather than a Python loop.
    convs = [m for m in head.modules() if isinstance(m, nn.Conv1d)]
    assert convs and all(m.groups == (1 if shared else 4) for m in convs)


def test_shared_layers_give_equal_outputs_equal_masks():
    head = LinearMaskerHead(6, n_src=2, n_outputs=4)
    assert head.shared and not MLPMaskerHead(6, n_src=2).shared  # the paper's layouts
    feats = torch.randn(1, 1, 6, 5).expand(-1, 4, -1, -1)
    masks = head.forward_outputs(feats)
    assert all(torch.equal(masks[:, 0], masks[:, p]) for p in range(4))
    unshared = LinearMaskerHead(6, n_src=2, n_outputs=4, shared=False).forward_outputs(feats)
    assert not torch.allclose(unshared[:, 0], unshared[:, 1])


def test_softmax_masks_sum_to_one_over_sources():
    head = LinearMaskerHead(8, n_src=2, n_outputs=8, mask_act="softmax")
    masks = head(torch.randn(2, 8, 8, 6))
    torch.testing.assert_close(masks.sum(1), torch.ones(2, 8, 6))


def test_mlp_structure_and_widths():
    head = MLPMaskerHead(64, n_src=2, hidden=16)
    kinds = [type(m).__name__ for m in head.layers]
    assert kinds == ["Conv1d", "Tanh", "Conv1d", "Tanh", "Conv1d"]
    assert [m.out_channels for m in head.layers if isinstance(m, nn.Conv1d)] == [32, 32, 128]
    assert sum(p.numel() for p in head.parameters()) == 2 * (64 * 16 + 16 + 16 * 16 + 16 + 16 * 64 + 64)


@pytest.mark.parametrize("kind", HEADS)
@pytest.mark.parametrize("shared", [True, False])
def test_head_config_round_trip(kind, shared):
    head = make_head(kind, in_chan=6, n_src=2, out_chan=4, n_outputs=4, mask_act="glu", hidden=3, shared=shared)
    again = type(head)(**head.get_config())
    assert again.get_config() == head.get_config()
    assert [p.shape for p in again.parameters()] == [p.shape for p in head.parameters()]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n_outputs=5), "n_outputs=5 cannot be grouped into n_src=2 .*allowed here: 2, 4, 6"),
        (dict(n_outputs=1), "n_outputs=1 cannot be grouped"),
        (dict(mask_act="tanhh"), "mask_act='tanhh'.*relu"),
        (dict(hidden=0), "hidden must be an integer >= 1"),
        (dict(hidden=2.5), "hidden must be an integer >= 1"),
    ],
)
def test_bad_head_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_head("mlp", in_chan=6, n_src=2, **kwargs)


def test_unknown_head_and_bad_hidden_for_linear():
    with pytest.raises(ValueError, match="mask_head='conv'.*linear.*mlp"):
        make_head("conv", in_chan=6, n_src=2)
    with pytest.raises(ValueError, match="head_hidden"):
        make_head("linear", in_chan=6, n_src=2, hidden=0)


def test_head_rejects_wrong_feature_shape():
    head = LinearMaskerHead(6, n_src=2, n_outputs=4)
    with pytest.raises(ValueError, match="n_outputs=4, in_chan=6"):
        head(torch.randn(1, 2, 6, 5))

