"""The DPRNN blocks run time-major (masknn/time_major.py) compute what Asteroid's DPRNNBlock.forward computes:
same outputs and same gradients, for each norm, direction and RNN type a DualPathRNN can have."""
import pytest
import torch
from asteroid.masknn.recurrent import DPRNNBlock
from torch import nn

from asteroid_deepmask.masknn.causal_dual_path import CausalDPRNNBlock
from asteroid_deepmask.masknn.time_major import run_blocks

BLOCKS = {
    "gLN_bidirectional": lambda: DPRNNBlock(8, 6, norm_type="gLN", bidirectional=True),
    "cLN_unidirectional_inter": lambda: DPRNNBlock(8, 6, norm_type="cLN", bidirectional=False),
    "causal_cLN": lambda: CausalDPRNNBlock(8, 6),
    "gru_gLN": lambda: DPRNNBlock(8, 6, norm_type="gLN", rnn_type="GRU"),
    "fgLN_in_its_own_layout": lambda: DPRNNBlock(8, 6, norm_type="fgLN"),
    "bN_in_its_own_layout": lambda: DPRNNBlock(8, 6, norm_type="bN"),
    "two_layers": lambda: DPRNNBlock(8, 6, num_layers=2),
}


@pytest.mark.parametrize("name", BLOCKS)
def test_time_major_blocks_match_asteroids_forward_and_gradients(name):
    torch.manual_seed(0)
    blocks = nn.Sequential(BLOCKS[name](), BLOCKS[name]())
    for p in blocks.parameters():  # away from the initial gains of 1 and biases of 0
        p.data.add_(0.1 * torch.randn_like(p))
    chunks = torch.randn(3, 8, 10, 7)  # [batch, chan, chunk_size, n_chunks]
    ours = run_blocks(blocks, chunks)
    grads = torch.autograd.grad(ours.pow(2).sum(), list(blocks.parameters()))
    theirs = blocks(chunks)
    expected = torch.autograd.grad(theirs.pow(2).sum(), list(blocks.parameters()))
    assert ours.shape == chunks.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    # sums over every frame, some of them zero in exact arithmetic (a bias that a norm's mean removes): rounding
    # scales with the largest gradient
    scale = max(float(g.abs().max()) for g in expected)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, atol=1e-5 * scale, rtol=1e-4)


def test_each_item_is_normalised_alone():
    """gLN's statistics are per item: an item's output does not change with the other items of the batch."""
    torch.manual_seed(0)
    blocks = nn.Sequential(DPRNNBlock(8, 6, norm_type="gLN"))
    chunks = torch.randn(2, 8, 10, 7)
    alone = run_blocks(blocks, chunks[:1])
    beside_a_loud_one = run_blocks(blocks, torch.cat([chunks[:1], 100 * chunks[1:]]))[:1]
    torch.testing.assert_close(alone, beside_a_loud_one, atol=1e-5, rtol=1e-5)
