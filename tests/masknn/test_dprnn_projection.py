"""DualPathRNN projects after overlap-add; that is the paper's order (projection on the chunks,
then overlap-add) computed differently: same outputs, same gradients, same parameters."""
import pytest
import torch

from asteroid_deepmask.masknn import DualPathRNN
from asteroid_deepmask.masknn.dual_path import chunk_coverage, overlap_add, split_chunks

CHAN = 6
# (chunk_size, hop_size, n_frames): the hop divides the chunk or not; odd lengths; a clip
# shorter than a chunk; a hop equal to the chunk.
LAYOUTS = [(10, 5, 37), (12, 4, 51), (10, 3, 41), (7, 2, 23), (8, 8, 31), (10, 5, 7)]


def chunk_first(dual_path, x):
    """The paper's layout (and this module's up to v0.1.0): PReLU and the projection on the chunks, then overlap-add."""
    batch, _, n_frames = x.shape
    chunks = dual_path.output(dual_path.blocks(split_chunks(x, dual_path.chunk_size, dual_path.hop_size)))
    return overlap_add(chunks, n_frames, dual_path.hop_size).reshape(batch, dual_path.n_outputs, dual_path.chan, n_frames)


def random_dual_path(n_outputs, chunk_size, hop_size, dtype=torch.float32):
    dual_path = DualPathRNN(CHAN, n_outputs, hid_size=5, chunk_size=chunk_size, hop_size=hop_size, n_repeats=1)
    with torch.no_grad():
        for p in dual_path.parameters():  # random weights, non-zero biases and PReLU slope
            p.copy_(0.5 * torch.randn_like(p))
    assert dual_path.output[1].bias.abs().min() > 0
    return dual_path.to(dtype)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("chunk_size,hop_size,n_frames", LAYOUTS)
@pytest.mark.parametrize("n_outputs", [1, 2, 4, 8, 16])
def test_projection_after_overlap_add_equals_chunk_first(n_outputs, chunk_size, hop_size, n_frames, dtype, tol):
    dual_path = random_dual_path(n_outputs, chunk_size, hop_size, dtype)
    x = torch.randn(3, CHAN, n_frames, dtype=dtype, requires_grad=True)
    out, ref = dual_path(x), chunk_first(dual_path, x)
    assert out.shape == ref.shape == (3, n_outputs, CHAN, n_frames)
    torch.testing.assert_close(out, ref, rtol=tol, atol=tol)

    inputs = [x, *dual_path.parameters()]
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), inputs)
    ref_grads = torch.autograd.grad((ref * weights).sum(), inputs)
    for (name, _), grad, ref_grad in zip([("input", x), *dual_path.named_parameters()], grads, ref_grads):
        # Weight and bias gradients are sums over batch and frames, summed in another order:
        # the rounding is relative to the size of the gradient, not of each element.
        atol = tol * max(1.0, ref_grad.abs().max().item())
        torch.testing.assert_close(grad, ref_grad, rtol=tol, atol=atol, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("chunk_size,hop_size,n_frames", LAYOUTS)
def test_chunk_coverage_counts_the_chunks_over_each_frame(chunk_size, hop_size, n_frames):
    x = torch.randn(2, 3, n_frames)
    coverage = chunk_coverage(x, chunk_size, hop_size)
    ones = overlap_add(split_chunks(torch.ones(1, 1, n_frames), chunk_size, hop_size), n_frames, hop_size)
    if chunk_size % hop_size == 0:  # an int from the layer sizes only: nothing to trace
        assert isinstance(coverage, int) and coverage == chunk_size // hop_size
        assert torch.equal(ones, torch.full_like(ones, coverage))
    else:
        assert torch.equal(coverage, ones) and ones.min() < ones.max()


def test_layers_and_state_dict_are_those_of_the_chunk_first_layout():
    dual_path = DualPathRNN(CHAN, 4, hid_size=5, chunk_size=10, n_repeats=1)
    shapes = {k: tuple(v.shape) for k, v in dual_path.state_dict().items() if k.startswith("output.")}
    assert shapes == {"output.0.weight": (1,), "output.1.weight": (4 * CHAN, CHAN, 1, 1), "output.1.bias": (4 * CHAN,)}


@pytest.mark.parametrize("chunk_size,hop_size", [(10, 5), (10, 3)])
def test_traced_dual_path_takes_any_length(chunk_size, hop_size):
    dual_path = random_dual_path(4, chunk_size, hop_size).eval()
    with torch.no_grad():
        traced = torch.jit.trace(dual_path, torch.randn(1, CHAN, 40))
        for batch, n_frames in [(1, 40), (2, 7), (3, 53), (1, 101)]:
            x = torch.randn(batch, CHAN, n_frames)
            torch.testing.assert_close(traced(x), dual_path(x), rtol=0, atol=0)
            torch.testing.assert_close(traced(x), chunk_first(dual_path, x), rtol=1e-5, atol=1e-5)
