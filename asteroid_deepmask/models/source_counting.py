"""Counting the sources of a mixture from a model's outputs: the outputs that carry energy.

An overseparated model (P outputs, P larger than the number of talkers), trained with MixIT or
dynamic grouping, leaves the outputs it does not need nearly silent. An output is *active* when its
energy relative to the mixture's, ``10 log10(||s_p||^2 / ||x||^2)``, is above a threshold.

Why -20 dB by default: an output that carries one of two talkers of equal level is at about -3 dB,
one of three at about -5 dB, and a talker 10 dB below the other at about -10 dB; the leakage left in
the unused outputs of a trained model is far lower. -20 dB keeps a quiet talker and drops the
leakage; raise it (-15, -10) to ignore faint background voices, lower it to keep them.
"""
import torch

#: The default threshold of :func:`active_sources` in dB relative to the mixture (see the module docstring).
ACTIVE_THRESHOLD_DB = -20.0
#: Mean power (per sample) below which a mixture is taken as silence: -100 dB re full scale.
SILENCE_POWER = 1e-10


def output_levels_db(output_energy, mixture_energy, n_samples):
    """Levels ``10 log10(e_p / e_x)`` in dB of outputs with energies ``[..., n_out]`` against their
    mixtures' ``[...]`` of ``n_samples`` samples; a mixture below :data:`SILENCE_POWER` counts as having
    that power, so the outputs of silence are far below any threshold."""
    output_energy, mixture_energy = torch.as_tensor(output_energy).double(), torch.as_tensor(mixture_energy).double()
    floor = SILENCE_POWER * n_samples
    return 10 * torch.log10(output_energy.clamp_min(1e-30) / mixture_energy.clamp_min(floor).unsqueeze(-1))


def ranked_active(levels_db, threshold_db=ACTIVE_THRESHOLD_DB):
    """Indices of the levels ``[n_out]`` above ``threshold_db``, loudest first (a list of ints)."""
    order = torch.argsort(levels_db, descending=True, stable=True)
    return [int(i) for i in order if levels_db[i] > threshold_db]


def active_sources(estimates, mixture, threshold_db=ACTIVE_THRESHOLD_DB):
    """The outputs whose energy relative to the mixture is above ``threshold_db``, loudest first.

    Args:
        estimates (torch.Tensor): outputs ``[batch, n_out, time]`` (or ``[n_out, time]``), e.g. a
            model's ``forward_outputs``.
        mixture (torch.Tensor): the mixtures they were separated from, ``[batch, time]`` (or ``[time]``).
        threshold_db (float): the level, in dB relative to the mixture, an output must exceed.
            Defaults to :data:`ACTIVE_THRESHOLD_DB` (-20 dB; why: see the module docstring).

    Returns:
        list: per item, the indices of its active outputs by decreasing energy (a list of ints; for
        unbatched inputs, that one list). A silent mixture has none.

    Example:
        >>> mix = torch.ones(4)
        >>> est = torch.stack([0.3 * mix, 0.01 * mix, 0.7 * mix])  # -10.5, -40 and -3.1 dB
        >>> active_sources(est, mix)
        [2, 0]
        >>> active_sources(torch.zeros(1, 3, 4), torch.zeros(1, 4))
        [[]]
    """
    if not torch.is_tensor(estimates) or estimates.dim() not in (2, 3):
        raise ValueError(f"estimates must be a [batch, n_out, time] or [n_out, time] tensor, got "
                         f"{getattr(estimates, 'shape', type(estimates).__name__)}.")
    single = estimates.dim() == 2
    estimates, mixture = (estimates[None], mixture[None]) if single else (estimates, mixture)
    if not torch.is_tensor(mixture) or mixture.shape != (estimates.shape[0], estimates.shape[-1]):
        raise ValueError(f"mixture must have the batch and time sizes of estimates {tuple(estimates.shape)}: "
                         f"{'[time]' if single else '[batch, time]'}, got {getattr(mixture, 'shape', mixture)}.")
    estimates, mixture = estimates.detach().double(), mixture.detach().double()
    levels = output_levels_db(estimates.pow(2).sum(-1), mixture.pow(2).sum(-1), estimates.shape[-1])
    active = [ranked_active(item, threshold_db) for item in levels]
    return active[0] if single else active
