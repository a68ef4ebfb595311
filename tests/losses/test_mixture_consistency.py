import pytest
import torch

from asteroid_deepmask.losses import mixture_consistency


def test_projection_by_hand():
    est = torch.tensor([[[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]])  # energies 5, 0, 2
    mix = torch.tensor([[3.0, 1.0, 2.0]])  # residual (1, 0, 0)
    uniform = mixture_consistency(est, mix)
    torch.testing.assert_close(uniform, est + torch.tensor([1 / 3, 1 / 3, 1 / 3])[:, None] * torch.tensor([1.0, 0, 0]))
    power = mixture_consistency(est, mix, weights="power")  # shares 5/7, 0, 2/7: the silent output stays silent
    torch.testing.assert_close(power[0, :, 0], torch.tensor([1 + 5 / 7, 0.0, 1 + 2 / 7]), atol=1e-6, rtol=0)
    torch.testing.assert_close(power[0, :, 1:], est[0, :, 1:])
    given = mixture_consistency(est, mix, weights=torch.tensor([0.0, 1.0, 3.0]))
    torch.testing.assert_close(given[0, :, 0], torch.tensor([1.0, 0.25, 1.75]))


@pytest.mark.parametrize("weights", [None, "uniform", "power", "tensor"])
def test_outputs_sum_to_the_mixture_and_gradients_flow(weights):
    est = torch.randn(4, 8, 300)
    mix = torch.randn(4, 1, 300)
    given = torch.rand(4, 8) + 0.1
    out = mixture_consistency(est, mix, given if weights == "tensor" else weights)
    torch.testing.assert_close(out.sum(1), mix[:, 0], atol=1e-5, rtol=0)
    # The gradient of out.sum() is zero whatever the projection does (the outputs sum to the mixture):
    # check the whole Jacobian instead, through a random projection of the outputs, in float64. A
    # projection (or its shares) cut from the graph makes the analytical gradient disagree with the numbers.
    generator = torch.Generator().manual_seed(0)
    est = torch.randn(2, 3, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    mix = torch.randn(2, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    shares = torch.rand(2, 3, dtype=torch.float64, generator=generator).add(0.1).requires_grad_()
    projection = torch.randn(2, 3, 5, dtype=torch.float64, generator=generator)

    def projected(est, mix, shares):
        return (mixture_consistency(est, mix, shares if weights == "tensor" else weights) * projection).sum()

    assert torch.autograd.gradcheck(projected, (est, mix, shares))
    grad = torch.autograd.grad(projected(est, mix, shares), est)[0]
    assert grad.abs().max() > 1e-3  # not zero by construction


@pytest.mark.parametrize("est,mix,weights,match", [
    (torch.randn(2, 300), torch.randn(2, 300), None, "estimates must be a \\[batch, n_out, time\\]"),
    (torch.randn(2, 3, 300), torch.randn(2, 200), None, "mixture must be \\[batch, time\\] = \\(2, 300\\)"),
    (torch.randn(2, 3, 300), torch.randn(2, 300), "magsq", "weights='magsq'; choose one of uniform, power"),
    (torch.randn(2, 3, 300), torch.randn(2, 300), torch.tensor([1.0, -1, 1]), "must be non-negative"),
    (torch.randn(2, 3, 300), torch.randn(2, 300), torch.zeros(3), "sum to 0"),
])
def test_bad_inputs(est, mix, weights, match):
    with pytest.raises(ValueError, match=match):
        mixture_consistency(est, mix, weights)
