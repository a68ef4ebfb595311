"""Training losses with SpeechBrain's signature: ``loss(targets, estimates)`` on
``[batch, time, n_src]`` tensors, returning one value per example (``[batch]``)."""
from asteroid.losses import PITLossWrapper, pairwise_neg_sisdr, pairwise_neg_snr


def _pit(pairwise, targets, estimates):
    pairwise_losses = pairwise(estimates.transpose(1, 2), targets.transpose(1, 2))
    min_loss, _ = PITLossWrapper.find_best_perm(pairwise_losses)
    return min_loss


def get_snr_with_pitwrapper(targets, estimates):
    """Negative SNR with permutation invariant training (the paper's objective), per example.

    Example:
        >>> import torch
        >>> get_snr_with_pitwrapper(torch.randn(3, 800, 2), torch.randn(3, 800, 2)).shape
        torch.Size([3])
    """
    return _pit(pairwise_neg_snr, targets, estimates)


def get_sisnr_with_pitwrapper(targets, estimates):
    """Negative SI-SNR with permutation invariant training, per example."""
    return _pit(pairwise_neg_sisdr, targets, estimates)
