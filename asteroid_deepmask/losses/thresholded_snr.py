"""MixIT's thresholded SNR loss for permutation-invariant training, and the pairwise loss of each
name the experiment files allow.

The MixIT paper trains on ``10 log10(||x - y||^2 + tau ||x||^2)`` with ``tau = 10^(-snr_max / 10)``:
the negative SNR of the estimate ``y`` of ``x`` (up to ``10 log10 ||x||^2``, which has no gradient),
softly capped at ``snr_max`` dB so that references already well matched stop driving the gradient.
:class:`~asteroid_deepmask.losses.MixITWrapper` computes it from Gram matrices by the name
``"thresholded_snr"``; :func:`pairwise_thresholded_snr` gives it the ``[batch, n_src, n_src]`` form of
Asteroid's pairwise losses, for ``PITLossWrapper(..., pit_from="pw_mtx")``.
"""
import functools

from asteroid.losses import pairwise_neg_sisdr, pairwise_neg_snr

from .mixit import SNR_MAX, loss_from_stats


def pairwise_thresholded_snr(est, targets, snr_max=SNR_MAX, eps=1e-8):
    """Thresholded SNR loss of every estimate against every target.

    Args:
        est (torch.Tensor): estimates ``[batch, n_src, time]``.
        targets (torch.Tensor): references ``[batch, n_src, time]``.
        snr_max (float): the soft cap in dB: ``tau = 10^(-snr_max / 10)``.
        eps (float): stabiliser of the log.

    Returns:
        torch.Tensor: ``[batch, n_src, n_src]``, entry ``[b, i, j]`` the loss of estimate ``i`` against
        target ``j`` (Asteroid's pairwise layout; lower is better).

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])  # two targets of energy 1 and 4
        >>> pairwise_thresholded_snr(x, x).diagonal(dim1=1, dim2=2)  # exact: 10 log10(tau ||x||^2)
        tensor([[-30.0000, -23.9794]])

    References:
        S. Wisdom et al., "Unsupervised Sound Separation Using Mixture Invariant Training",
        NeurIPS 2020, equation (3).
    """
    if est.shape != targets.shape or est.dim() != 3:
        raise ValueError(f"est {tuple(est.shape)} and targets {tuple(targets.shape)} must both be "
                         "[batch, n_src, time] tensors of one shape.")
    energy = targets.pow(2).sum(-1).unsqueeze(1)  # [batch, 1, targets]
    cross = est @ targets.transpose(1, 2)  # [batch, estimates, targets]
    remix_energy = est.pow(2).sum(-1).unsqueeze(2)  # [batch, estimates, 1]
    return loss_from_stats("thresholded_snr", energy, cross, remix_energy, est.shape[-1], eps, snr_max)


#: ``training.loss`` names and their pairwise losses for PIT.
PAIRWISE_LOSSES = {"neg_snr": pairwise_neg_snr, "neg_sisdr": pairwise_neg_sisdr,
                   "thresholded_snr": pairwise_thresholded_snr}


def pairwise_loss(name, snr_max=SNR_MAX):
    """The pairwise loss ``(est, targets) -> [batch, n_src, n_src]`` that ``training.loss: name`` means.

    Args:
        name (str): a key of :data:`PAIRWISE_LOSSES` (the MixIT loss of the same name is
            ``MixITWrapper(name, snr_max=snr_max)``).
        snr_max (float): the cap of ``thresholded_snr`` in dB (``training.snr_max``); ignored by the others.

    Example:
        >>> from asteroid.losses import PITLossWrapper
        >>> pit = PITLossWrapper(pairwise_loss("thresholded_snr", snr_max=20.0), pit_from="pw_mtx")
        >>> pairwise_loss("neg_sisdr") is pairwise_neg_sisdr
        True
    """
    if name not in PAIRWISE_LOSSES:
        raise ValueError(f"Unknown loss {name!r}; choose one of {', '.join(PAIRWISE_LOSSES)}.")
    if name == "thresholded_snr":
        return functools.partial(pairwise_thresholded_snr, snr_max=snr_max)
    return PAIRWISE_LOSSES[name]
