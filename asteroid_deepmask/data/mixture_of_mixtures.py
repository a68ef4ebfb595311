"""Mixtures of mixtures (MoMs) for unsupervised MixIT training."""
import torch


def mixtures_of_mixtures(mixtures):
    """Pair the mixtures of a batch and sum each pair into a mixture of mixtures.

    Items ``2i`` and ``2i + 1`` of the batch make MoM ``i``; the model separates the MoM into
    P outputs and :class:`~asteroid_deepmask.losses.MixITWrapper` remixes them into the two
    mixtures (the references).

    Args:
        mixtures (torch.Tensor): ``[batch, time]`` or ``[batch, 1, time]``, batch even.

    Returns:
        tuple: ``(moms, refs)``: ``moms`` ``[batch // 2, time]``, ``refs`` ``[batch // 2, 2, time]``.

    Example:
        >>> moms, refs = mixtures_of_mixtures(torch.randn(4, 1, 100))
        >>> moms.shape, refs.shape
        (torch.Size([2, 100]), torch.Size([2, 2, 100]))
    """
    if not torch.is_tensor(mixtures) or mixtures.dim() not in (2, 3):
        shape = tuple(mixtures.shape) if torch.is_tensor(mixtures) else type(mixtures).__name__
        raise ValueError(f"mixtures must be [batch, time] or [batch, 1, time], got {shape}.")
    if mixtures.dim() == 3:
        if mixtures.shape[1] != 1:
            raise ValueError(f"mixtures must be single-channel, got {mixtures.shape[1]} channels.")
        mixtures = mixtures[:, 0]
    batch = mixtures.shape[0]
    if batch < 2 or batch % 2:
        raise ValueError(
            f"A batch of {batch} mixtures cannot be paired into mixtures of mixtures; use an even "
            "batch size >= 2 (set the batch size, or drop_last=True in the DataLoader)."
        )
    refs = mixtures.reshape(batch // 2, 2, -1)
    return refs.sum(1), refs
