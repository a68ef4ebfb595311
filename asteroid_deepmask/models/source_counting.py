"""Counting the sources of a mixture from a model's outputs: the outputs that carry a source of their own.

An overseparated model (P outputs, P larger than the number of talkers), trained with MixIT or
dynamic grouping, leaves the outputs it does not need nearly silent, unless a mixture-consistency
projection fills them: the ``uniform`` projection adds the same share ``r / P`` of the residual
``r = mixture - sum of the outputs`` to every output, so an unused output is ``r / P``, as loud as
the residual is, and a threshold on the outputs' levels keeps all of them.

The rule here does not see that shared part. An output's *distinct energy* is its energy, or its
squared distance to the nearest other output when that is smaller: ``min(||y_p||^2, min_q ||y_p -
y_q||^2)``. Outputs ``y_p = s_p + c`` that share an added part ``c`` differ by ``s_p - s_q``, so two
unused outputs are close to each other whatever ``c`` is, while an output carrying a talker is as far
from every other output as that talker is loud (talkers are nearly uncorrelated). Without a
projection (or with ``power``, which leaves silent outputs silent) the energy itself decides. An
output is *active* when its distinct energy relative to the mixture's, in dB, is above a threshold.
When no output passes but the loudest one's own level does, that one is active: outputs that are all
alike (one source spread evenly over them, or an untrained model's copies of the input) hold one
source, not none. Its limits: a single unused output under ``uniform`` keeps the residual's level (it
has no twin); one talker copied exactly into two outputs, beside another talker, would count as none.

Why -20 dB by default: an output that carries one of two talkers of equal level is at about -3 dB,
one of three at about -5 dB, and a talker 10 dB below the other at about -10 dB; the leakage left in
the unused outputs of a trained model is far lower. -20 dB keeps a quiet talker and drops the
leakage; raise it (-15, -10) to ignore faint background voices, lower it to keep them.
"""
import torch

#: The default threshold of :func:`active_outputs` in dB relative to the mixture (see the module docstring).
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


def distinct_energies(gram):
    """Each output's energy, or its squared distance to the nearest other output when smaller.

    Args:
        gram (torch.Tensor): the outputs' Gram matrix ``[..., n_out, n_out]`` (``G_pq = <y_p, y_q>``),
            which a long file accumulates window by window.

    Returns:
        torch.Tensor: ``[..., n_out]``: ``min(G_pp, min_{q != p} G_pp + G_qq - 2 G_pq)`` (see the module docstring).

    Example:
        >>> y = torch.tensor([[3.0, 0.0], [0.5, 0.5], [0.5, 0.5]])  # a talker; two outputs sharing one residual
        >>> distinct_energies(y @ y.T).tolist()
        [6.5, 0.0, 0.0]
    """
    gram = torch.as_tensor(gram).double()
    energy = gram.diagonal(dim1=-2, dim2=-1)
    distances = energy.unsqueeze(-1) + energy.unsqueeze(-2) - 2 * gram  # [..., n_out, n_out]
    own = torch.eye(gram.shape[-1], dtype=torch.bool, device=gram.device)
    nearest = distances.masked_fill(own, float("inf")).amin(-1) if gram.shape[-1] > 1 else energy
    return torch.minimum(energy, nearest.clamp_min(0))  # rounding can leave a distance just below zero


def active_outputs(gram, mixture_energy, n_samples, threshold_db=ACTIVE_THRESHOLD_DB):
    """Which outputs are active, loudest first: the one decision of ``count_sources`` and ``separate --active-only``.

    Args:
        gram (torch.Tensor): one item's outputs' Gram matrix ``[n_out, n_out]``.
        mixture_energy (float): the mixture's energy (sum of squares) over the same ``n_samples`` samples.
        n_samples (int): their length.
        threshold_db (float): the distinct energy (:func:`distinct_energies`) relative to the mixture's, in
            dB, that an output must exceed.

    Returns:
        list of int: the active outputs' indices, by decreasing energy; at least the loudest one when its own
        level passes (see the module docstring).

    Example:
        >>> y = torch.tensor([[3.0, 0.0], [0.5, 0.5], [0.5, 0.5]])
        >>> active_outputs(y @ y.T, mixture_energy=16.0, n_samples=2)  # 6.5 / 16 is -3.9 dB; the others none
        [0]
        >>> copies = torch.tensor([[1.0, 2.0], [1.0, 2.0], [1.1, 2.0]])  # one source over three outputs
        >>> active_outputs(copies @ copies.T, mixture_energy=46.0, n_samples=2)
        [2]
    """
    gram = torch.as_tensor(gram).double()
    energies = gram.diagonal()
    levels = output_levels_db(distinct_energies(gram), mixture_energy, n_samples)
    order = torch.argsort(energies, descending=True, stable=True)
    active = [int(i) for i in order if levels[i] > threshold_db]
    if not active and len(order) and output_levels_db(energies[order[0]], mixture_energy, n_samples) > threshold_db:
        active = [int(order[0])]
    return active


def active_sources(estimates, mixture, threshold_db=ACTIVE_THRESHOLD_DB):
    """The outputs that carry a source of their own (:func:`active_outputs`), loudest first.

    Args:
        estimates (torch.Tensor): outputs ``[batch, n_out, time]`` (or ``[n_out, time]``), e.g. a
            model's ``forward_outputs``.
        mixture (torch.Tensor): the mixtures they were separated from, ``[batch, time]`` (or ``[time]``).
        threshold_db (float): the level, in dB relative to the mixture, an output's distinct energy must
            exceed. Defaults to :data:`ACTIVE_THRESHOLD_DB` (-20 dB; why: see the module docstring).

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
    grams, energies = estimates @ estimates.transpose(1, 2), mixture.pow(2).sum(-1)
    active = [active_outputs(g, e, estimates.shape[-1], threshold_db) for g, e in zip(grams, energies)]
    return active[0] if single else active
