"""A masker folds its trunk's last 1x1 layer into its head's first: same masks, same gradients,
fewer products; heads and trunks that do not allow it run their layers one after the other."""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from asteroid_deepmask.complexity import _fold_saving
from asteroid_deepmask import masknn

IN_CHAN, FRAMES = 12, 37
TRUNKS = {
    "dprnn": lambda p: masknn.DPRNNTrunk(IN_CHAN, p, bn_chan=6, hid_size=5, chunk_size=10, n_repeats=1),
    "dprnn_hop_3": lambda p: masknn.DPRNNTrunk(IN_CHAN, p, bn_chan=6, hid_size=5, chunk_size=10, hop_size=3,
                                               n_repeats=1),
    "tcn": lambda p: masknn.TCNTrunk(IN_CHAN, p, n_blocks=2, n_repeats=1, bn_chan=6, hid_chan=8, skip_chan=5),
    "tcn_no_skip": lambda p: masknn.TCNTrunk(IN_CHAN, p, n_blocks=2, n_repeats=1, bn_chan=6, hid_chan=8, skip_chan=0),
}
HEADS = {
    "linear_shared": lambda p, act: masknn.LinearMaskerHead(6, 2, IN_CHAN, p, mask_act=act),
    "linear_per_output": lambda p, act: masknn.LinearMaskerHead(6, 2, IN_CHAN, p, mask_act=act, shared=False),
    "mlp": lambda p, act: masknn.MLPMaskerHead(6, 2, IN_CHAN, p, mask_act=act, hidden=4),
    "mlp_shared": lambda p, act: masknn.MLPMaskerHead(6, 2, IN_CHAN, p, mask_act=act, hidden=4, shared=True),
}


def random_masker(trunk, head, n_outputs, mask_act="relu", dtype=torch.float32):
    masker = masknn.OverseparationMasker(TRUNKS[trunk](n_outputs), HEADS[head](n_outputs, mask_act)).to(dtype)
    with torch.no_grad():
        for p in masker.parameters():  # random weights, non-zero biases
            p.copy_(0.5 * torch.randn_like(p))
    return masker


def unfolded(masker, x):
    masker.fold_layers = False
    try:
        return masker.forward_outputs(x)
    finally:
        masker.fold_layers = True


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("trunk", list(TRUNKS))
@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("n_outputs,mask_act", [(2, "relu"), (8, "relu"), (4, "glu"), (4, "softmax"), (4, "none")])
def test_folded_masks_and_gradients_equal_the_layers_one_by_one(trunk, head, n_outputs, mask_act, dtype, tol):
    masker = random_masker(trunk, head, n_outputs, mask_act, dtype)
    assert masker.trunk.output_projection() is not None and masker.head.foldable_layer() is not None
    x = torch.randn(3, IN_CHAN, FRAMES, dtype=dtype, requires_grad=True)
    out, ref = masker.forward_outputs(x), unfolded(masker, x)
    assert out.shape == ref.shape == (3, n_outputs, IN_CHAN, FRAMES)
    torch.testing.assert_close(out, ref, rtol=tol, atol=tol)
    torch.testing.assert_close(masker(x), ref.unflatten(1, (2, -1)).sum(2), rtol=tol, atol=tol)

    inputs = [x, *masker.parameters()]
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), inputs, allow_unused=True)
    ref_grads = torch.autograd.grad((ref * weights).sum(), inputs, allow_unused=True)
    names = ["input", *(name for name, _ in masker.named_parameters())]
    for name, grad, ref_grad in zip(names, grads, ref_grads):
        if ref_grad is None:  # TCN's last residual convolution gets no gradient with skip connections
            assert grad is None, name
            continue
        atol = tol * max(1.0, ref_grad.abs().max().item())
        torch.testing.assert_close(grad, ref_grad, rtol=tol, atol=atol, msg=lambda m: f"{name}: {m}")


class ContextHead(masknn.MaskerHead):
    """A head whose first layer looks at 3 frames: nothing to fold a 1x1 layer into."""

    def _build_layers(self, n_copies, final_chan):
        return nn.Conv1d(n_copies * self.in_chan, n_copies * final_chan, 3, padding=1, groups=n_copies)


def test_a_head_without_a_1x1_first_layer_runs_the_layers_one_by_one():
    trunk = TRUNKS["dprnn"](4)
    head = ContextHead(6, 2, IN_CHAN, 4)
    assert head.foldable_layer() is None
    masker = masknn.OverseparationMasker(trunk, head)
    x = torch.randn(2, IN_CHAN, FRAMES)
    torch.testing.assert_close(masker.forward_outputs(x), head.forward_outputs(trunk(x)), rtol=0, atol=0)
    # Handed a projection anyway, the head applies it first.
    projection = trunk.output_projection()
    folded = head.forward_outputs_folded(projection, *trunk.forward_unprojected(x))
    torch.testing.assert_close(folded, head.forward_outputs(trunk(x)), rtol=0, atol=0)


def test_trunks_without_a_last_1x1_layer_are_not_folded():
    trunk = masknn.SimoSisoTrunk(IN_CHAN, n_src=2, n_outputs=4, n_simo=1, n_siso=1, bn_chan=6, hid_size=5,
                                 chunk_size=10)
    assert trunk.output_projection() is None
    with pytest.raises(NotImplementedError, match="output_projection"):
        trunk.forward_unprojected(torch.randn(1, IN_CHAN, FRAMES))
    masker = masknn.OverseparationMasker(trunk, masknn.LinearMaskerHead(6, 2, IN_CHAN, 4))
    x = torch.randn(2, IN_CHAN, FRAMES)
    torch.testing.assert_close(masker.forward_outputs(x), masker.head.forward_outputs(trunk(x)), rtol=0, atol=0)


@pytest.mark.parametrize("trunk", ["dprnn", "dprnn_hop_3"])
def test_traced_folded_masker_takes_any_batch_and_length(trunk):
    masker = random_masker(trunk, "linear_shared", 8).eval()
    with torch.no_grad():
        traced = torch.jit.trace(masker, torch.randn(1, IN_CHAN, 40))
        for batch, n_frames in [(1, 40), (2, 7), (3, 53)]:
            x = torch.randn(batch, IN_CHAN, n_frames)
            torch.testing.assert_close(traced(x), masker(x), rtol=0, atol=0)


@pytest.mark.parametrize("head", list(HEADS))
def test_complexity_counts_what_folding_saves(head):
    """FLOPs (2 per MAC) of the folded and unfolded masks, as torch counts the products that run:
    the difference is the saving ``complexity`` subtracts, less the fold of the weights (per call,
    not per frame)."""
    masker = random_masker("tcn", head, 8)
    x = torch.randn(2, IN_CHAN, FRAMES)
    counts = []
    for fold in (False, True):
        masker.fold_layers = fold
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            masker.forward_outputs(x)
        counts.append(counter.get_total_flops())
    first = masker.head.foldable_layer()[0]
    width = first.out_channels // first.groups
    weight_fold = 8 * width * 6 * (5 + 1)  # W_head W_trunk and W_head b_trunk, per output
    saving = _fold_saving(masker, x.shape)
    assert saving > 0
    assert counts[0] - counts[1] == 2 * (saving - weight_fold)
