"""Sparsity of a separation's output levels: a loss that favours few active outputs.

MixIT over-separates: nothing in its loss stops a talker from being spread over several of the P
outputs, since any split of a talker among outputs assigned to one mixture remixes to the same
reference. A sparsity loss on the outputs' levels breaks that tie in favour of fewer, fuller outputs
(Wisdom et al., "Sparse, efficient, and semantic mixture invariant training: taming in-the-wild
unsupervised sound separation", WASPAA 2021, arXiv 2106.00847, which adds such losses on the
outputs' powers to MixIT).

The form here is the L1/L2 ratio of each mixture's vector of output RMS values,
``||rms||_1 / ||rms||_2`` with ``rms_p = sqrt(mean_t s_p(t)^2)``: scale-invariant (a louder
mixture weighs the same), 1 when one output carries everything and ``sqrt(P)`` when all P carry the
same level. Its gradient lowers every output whose RMS is below ``||rms||_2^2 / ||rms||_1`` and
raises the others: quiet outputs are pushed to silence. The paper compares several sparsity losses
on output powers; this ratio is the form issue 33 names, picked here without re-reading the paper
(no access while writing it): check the paper before claiming it is the paper's best.
"""
import torch


def rms_sparsity(estimates, eps=1e-8):
    """The L1/L2 ratio of the outputs' RMS values, per mixture.

    Args:
        estimates (torch.Tensor): outputs ``[batch, n_out, time]``.
        eps (float): times the mixture's total output power, added to each output's power under the square
            root: a finite gradient at silence, whatever the signal level (all-silent outputs give
            ``sqrt(n_out)`` and no gradient).

    Returns:
        torch.Tensor: ``[batch]``, each between 1 (one active output) and ``sqrt(n_out)`` (all equal).

    Example:
        >>> one = torch.zeros(1, 4, 100); one[0, 0] = 1.0
        >>> rms_sparsity(one).round(decimals=3)
        tensor([1.])
        >>> rms_sparsity(torch.ones(1, 4, 100))
        tensor([2.])
    """
    if not torch.is_tensor(estimates) or estimates.dim() != 3:
        raise ValueError(f"estimates must be a [batch, n_out, time] tensor, got "
                         f"{getattr(estimates, 'shape', type(estimates).__name__)}.")
    power = estimates.pow(2).mean(-1)  # [batch, n_out]
    # the floor is a constant of the gradient (only the outputs' shares move)
    floor = eps * power.sum(-1, keepdim=True).detach() + torch.finfo(power.dtype).tiny
    rms = (power + floor).sqrt()
    return rms.sum(-1) / rms.pow(2).sum(-1).sqrt()
