"""Covariance of the outputs' energy envelopes: a loss against one source spread over several outputs.

Parts of one talker that a model puts into different outputs (bands, harmonics) rise and fall
together, syllable by syllable; two talkers do not. Wisdom et al., "Sparse, efficient, and semantic
mixture invariant training" (WASPAA 2021, arXiv 2106.00847) add a covariance loss against
correlated outputs to MixIT. The form here (ours, after that idea): the frame energies of each
output, ``e_p(f) = mean of s_p^2 over frame f``, centred over the frames; their covariance matrix
``C`` (``[n_out, n_out]``); and the loss ``sum_{p != q} max(C_pq, 0) / trace(C)``, which is 0 for
outputs whose envelopes are uncorrelated or anticorrelated (talkers taking turns), up to
``n_out - 1`` when every output follows the same envelope at the same level, and does not depend on
the level of the mixture. Silent outputs have a flat envelope and add nothing.
"""
import torch

#: The frame of the envelopes in training (``training.covariance_weight``), in seconds: about a syllable's tenth.
ENVELOPE_FRAME_S = 0.032


def centred_envelopes(estimates, frame):
    """Frame energies ``[batch, n_out, frames]`` of outputs ``[batch, n_out, time]`` (mean square per ``frame``
    samples; the samples past the last whole frame left out), minus their mean over the frames."""
    batch, n_out, time = estimates.shape
    if not isinstance(frame, int) or not 1 <= frame <= time // 2:
        raise ValueError(f"frame={frame!r} must be an integer from 1 to half the signal ({time // 2} samples), "
                         "so that there are at least two frames.")
    n_frames = time // frame
    envelopes = estimates[..., : n_frames * frame].reshape(batch, n_out, n_frames, frame).pow(2).mean(-1)
    return envelopes - envelopes.mean(-1, keepdim=True)


def envelope_covariance(estimates, frame, eps=1e-12):
    """The positive covariance between the outputs' frame-energy envelopes, relative to their variance.

    Args:
        estimates (torch.Tensor): outputs ``[batch, n_out, time]``.
        frame (int): samples per frame (e.g. 256, 32 ms at 8 kHz); the samples past the last whole
            frame are left out.
        eps (float): added to the trace (all-silent or flat outputs give 0, not NaN).

    Returns:
        torch.Tensor: ``[batch]``, between 0 and ``n_out - 1``.

    Example:
        >>> t = torch.arange(800.0)
        >>> beat, other = (t % 200 < 100).float(), (t % 200 >= 100).float()
        >>> envelope_covariance(torch.stack([beat, -beat])[None], 50)  # one envelope, twice
        tensor([1.])
        >>> envelope_covariance(torch.stack([beat, other])[None], 50)  # turns: anticorrelated
        tensor([0.])
    """
    if not torch.is_tensor(estimates) or estimates.dim() != 3:
        raise ValueError(f"estimates must be a [batch, n_out, time] tensor, got "
                         f"{getattr(estimates, 'shape', type(estimates).__name__)}.")
    envelopes = centred_envelopes(estimates, frame)
    covariance = envelopes @ envelopes.transpose(1, 2) / envelopes.shape[-1]  # [batch, n_out, n_out]
    variance = covariance.diagonal(dim1=1, dim2=2)
    off_diagonal = covariance.clamp_min(0).sum((1, 2)) - variance.sum(-1)
    return off_diagonal / (variance.sum(-1) + eps)
