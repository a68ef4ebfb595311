"""Mixture consistency: outputs projected so that they sum to the mixture they came from.

A separation model's P outputs ``s_p`` rarely sum exactly to the input mixture ``x``. The
projection adds to each output a share of the residual ``r = x - sum_p s_p``:
``s_p' = s_p + w_p r`` with ``sum_p w_p = 1``, so ``sum_p s_p' = x`` exactly. It is the least-squares
closest consistent set of outputs under the weighted norm ``sum_p ||s_p' - s_p||^2 / w_p``.
"""
import torch

#: ``weights`` choices: ``uniform`` (``w_p = 1 / P``) or ``power`` (``w_p`` proportional to the output's
#: energy, the MixIT code's ``pred_source`` weights: silent outputs stay silent).
WEIGHTS = ("uniform", "power")


def mixture_consistency(estimates, mixture, weights=None, eps=1e-8):
    """Project ``estimates`` so that they sum to ``mixture``.

    Args:
        estimates (torch.Tensor): outputs ``[batch, n_out, time]``.
        mixture (torch.Tensor): the input mixtures ``[batch, time]`` (or ``[batch, 1, time]``).
        weights (str or torch.Tensor, optional): how the residual is shared: None or ``"uniform"``
            (equal shares), ``"power"`` (shares proportional to each output's energy, ``eps`` added
            so that all-silent outputs share equally), or a tensor ``[batch, n_out]`` (or ``[n_out]``)
            of non-negative shares, normalised here to sum to 1.
        eps (float): added to the energies of ``"power"``.

    Returns:
        torch.Tensor: ``[batch, n_out, time]`` whose sum over outputs is ``mixture``.

    Example:
        >>> est = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])  # [1, 2, 2]
        >>> mixture_consistency(est, torch.tensor([[2.0, 2.0]]))
        tensor([[[1.5000, 1.0000],
                 [0.5000, 1.0000]]])
        >>> mixture_consistency(est, torch.tensor([[2.0, 2.0]]), weights="power")[0, 1].abs().max() < 1e-6
        tensor(True)

    References:
        S. Wisdom et al., "Differentiable Consistency Constraints for Improved Deep Speech
        Enhancement", ICASSP 2019; used by MixIT (Wisdom et al., NeurIPS 2020).
    """
    if not torch.is_tensor(estimates) or estimates.dim() != 3:
        raise ValueError(f"estimates must be a [batch, n_out, time] tensor, got {getattr(estimates, 'shape', estimates)}.")
    mixture = mixture.reshape(mixture.shape[0], -1) if torch.is_tensor(mixture) and mixture.dim() == 3 else mixture
    if not torch.is_tensor(mixture) or mixture.shape != (estimates.shape[0], estimates.shape[2]):
        raise ValueError(f"mixture must be [batch, time] = {(estimates.shape[0], estimates.shape[2])} to match "
                         f"estimates {tuple(estimates.shape)}, got {getattr(mixture, 'shape', mixture)}.")
    shares = _shares(estimates, weights, eps)
    residual = mixture - estimates.sum(1)
    return estimates + shares.unsqueeze(-1) * residual.unsqueeze(1)


def _shares(estimates, weights, eps):
    """The weights ``[batch, n_out]``, summing to 1 over the outputs."""
    batch, n_out, _ = estimates.shape
    if weights is None or (isinstance(weights, str) and weights == "uniform"):
        return estimates.new_full((batch, n_out), 1.0 / n_out)
    if isinstance(weights, str) and weights == "power":
        weights = estimates.pow(2).sum(-1) + eps
    elif not torch.is_tensor(weights):
        raise ValueError(f"weights={weights!r}; choose one of {', '.join(WEIGHTS)} or give a [batch, n_out] tensor.")
    elif weights.shape[-1] != n_out or weights.dim() > 2 or (weights < 0).any():
        raise ValueError(f"weights of shape {tuple(weights.shape)} must be non-negative, [batch, {n_out}] or [{n_out}].")
    weights = weights.to(estimates.dtype).expand(batch, n_out)
    total = weights.sum(-1, keepdim=True)
    if (total <= 0).any():
        raise ValueError("weights sum to 0 for some item; give at least one positive weight per item.")
    return weights / total
