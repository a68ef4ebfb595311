"""Mixture invariant training loss that scores every output-to-reference assignment at once.

For an assignment of P estimates ``s_p`` to K references ``x_k``, reference k is compared with
the remix ``y_k = sum of the s_p assigned to k``. SNR-type losses depend on ``y_k`` only through
``||x_k||^2``, ``<x_k, y_k>`` and ``||y_k||^2``, which are sums of entries of the P x P Gram
matrix ``G = S S^T`` and of the K x P matrix ``C = X S^T``. Both are computed once, in one
pass over the waveforms; then all K^P assignments are scored with small matrix products, and
only the best one is remixed as waveforms, for the loss value and its gradient.
"""
import functools
import math

import torch
from torch import nn
from torch.nn import functional as F

#: Losses the wrapper can score from Gram matrices.
MIXIT_LOSSES = ("neg_snr", "neg_sisdr", "mse", "thresholded_snr")
SEARCHES = ("auto", "exhaustive", "local")


def loss_from_stats(loss, energy, cross, remix_energy, n_samples, eps=1e-8, snr_max=30.0):
    """Per-reference loss from ``e = ||x||^2``, ``c = <x, y>`` and ``q = ||y||^2`` (any shapes).

    * ``neg_snr``: ``-10 log10(e / (||x - y||^2 + eps) + eps)``, Asteroid's ``multisrc_neg_snr``.
    * ``neg_sisdr``: negative scale-invariant SDR, Asteroid's ``multisrc_neg_sisdr``.
    * ``mse``: ``||x - y||^2 / n_samples``.
    * ``thresholded_snr``: MixIT's ``10 log10(||x - y||^2 + tau ||x||^2)``, with
      ``tau = 10^(-snr_max / 10)``: an SNR loss that stops rewarding past ``snr_max`` dB.
    """
    e, c, q = energy, cross, remix_energy
    if loss == "neg_sisdr":
        scale = c / (e + eps)
        target = scale * scale * e
        noise = (q - 2 * scale * c + target).clamp_min(0)
        return -10 * torch.log10(target / (noise + eps) + eps)
    error = (e - 2 * c + q).clamp_min(0)  # ||x - y||^2; clamped against rounding below zero
    if loss == "neg_snr":
        return -10 * torch.log10(e / (error + eps) + eps)
    if loss == "mse":
        return error / n_samples
    return 10 * torch.log10(error + 10 ** (-snr_max / 10) * e + eps)


def _valid(assignments, n_refs, mode):
    """Which assignments ``[..., P]`` (reference index per output) the constraint allows."""
    if mode == "any":
        return torch.ones(assignments.shape[:-1], dtype=torch.bool, device=assignments.device)
    counts = F.one_hot(assignments, n_refs).sum(-2)
    if mode == "nonempty":
        return (counts > 0).all(-1)
    return (counts == assignments.shape[-1] // n_refs).all(-1)


@functools.lru_cache(maxsize=16)
def all_assignments(n_refs, n_outputs, mode="any"):
    """Every allowed assignment, ``[n_assignments, n_outputs]``, each entry a reference index."""
    codes = torch.arange(n_refs**n_outputs)
    powers = n_refs ** torch.arange(n_outputs - 1, -1, -1)
    assignments = (codes[:, None] // powers) % n_refs
    return assignments[_valid(assignments, n_refs, mode)]


class MixITWrapper(nn.Module):
    """MixIT loss wrapper: best grouping of P estimates into K references, found exactly.

    Call convention of Asteroid's loss wrappers: ``loss = wrapper(est, refs)``. For
    unsupervised MixIT the references are the mixtures that were summed into the input; for
    supervised dynamic grouping they are the C sources (the best assignment replaces the
    paper's contiguous grouping).

    Search: with ``search="auto"``, all allowed assignments are scored when there are at most
    ``max_assignments`` candidates (K^P; 2^16 covers P = 16 for K = 2), else a local search
    runs: from the contiguous grouping and ``restarts - 1`` random permutations of it, it
    repeatedly takes the best single move (one output to another reference) or swap (two
    outputs between references) until none lowers the loss. On random cases small enough to
    check it finds the exact optimum in most cases (see ``tests/test_mixit.py``).

    Args:
        loss (str): one of :data:`MIXIT_LOSSES`. Defaults to ``"neg_snr"`` (the paper's loss).
        generalized (bool): as Asteroid's ``MixITLossWrapper``: True (default) allows any
            assignment (a reference may get no estimate); False requires every reference to
            get exactly P / K estimates.
        require_nonempty (bool): with ``generalized=True``, require every reference to get at
            least one estimate. Defaults to False.
        reduction (str): ``"mean"`` over the batch or ``"none"``. Defaults to ``"mean"``.
        search (str): ``"auto"``, ``"exhaustive"`` or ``"local"``. Defaults to ``"auto"``.
        max_assignments (int): largest K^P scored exhaustively by ``"auto"``. Defaults to 2^16.
        restarts (int): starting points of the local search. Defaults to 8.
        zero_mean (bool): remove the mean of estimates and references first (SNR and SI-SDR,
            as Asteroid does). Defaults to True.
        snr_max (float): SNR cap in dB of ``thresholded_snr``. Defaults to 30.
        eps (float): stabiliser of the logs and ratios. Defaults to 1e-8.

    Shapes:
        est: ``[batch, P, time]``; refs: ``[batch, K, time]``; loss: ``[]`` (``[batch]`` with
        ``reduction="none"``). With ``return_est=True`` also the remixed estimates
        ``[batch, K, time]`` and the assignment ``[batch, P]`` (the reference of each output).

    Example:
        >>> wrapper = MixITWrapper("neg_sisdr")
        >>> est, mixtures = torch.randn(3, 8, 800), torch.randn(3, 2, 800)
        >>> loss, remixed, assignment = wrapper(est, mixtures, return_est=True)
        >>> loss.shape, remixed.shape, assignment.shape
        (torch.Size([]), torch.Size([3, 2, 800]), torch.Size([3, 8]))

    References:
        S. Wisdom et al., "Unsupervised Sound Separation Using Mixture Invariant Training",
        NeurIPS 2020.
    """

    def __init__(
        self,
        loss="neg_snr",
        generalized=True,
        require_nonempty=False,
        reduction="mean",
        search="auto",
        max_assignments=2**16,
        restarts=8,
        zero_mean=True,
        snr_max=30.0,
        eps=1e-8,
    ):
        super().__init__()
        if loss not in MIXIT_LOSSES:
            raise ValueError(f"Unknown loss={loss!r}; choose one of {list(MIXIT_LOSSES)}.")
        if reduction not in ("mean", "none"):
            raise ValueError(f"reduction={reduction!r}; choose 'mean' or 'none'.")
        if search not in SEARCHES:
            raise ValueError(f"Unknown search={search!r}; choose one of {list(SEARCHES)}.")
        if max_assignments < 1 or restarts < 1:
            raise ValueError(f"max_assignments={max_assignments} and restarts={restarts} must be >= 1.")
        self.loss, self.reduction, self.search = loss, reduction, search
        self.generalized, self.require_nonempty = generalized, require_nonempty
        self.max_assignments, self.restarts = max_assignments, restarts
        self.zero_mean = zero_mean and loss in ("neg_snr", "neg_sisdr")
        self.snr_max, self.eps = snr_max, eps
        self.mode = "equal" if not generalized else ("nonempty" if require_nonempty else "any")

    def _check(self, est, refs):
        for name, x in (("est", est), ("refs", refs)):
            if not torch.is_tensor(x) or x.dim() != 3:
                shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
                raise ValueError(f"{name} must be a [batch, n, time] tensor, got {shape}.")
        (b, p, t), (b2, k, t2) = est.shape, refs.shape
        if b != b2 or t != t2:
            raise ValueError(
                f"est {tuple(est.shape)} and refs {tuple(refs.shape)} must share batch and time sizes."
            )
        if p < k:
            raise ValueError(f"MixIT needs at least as many estimates as references, got P={p} < K={k}.")
        if self.mode == "equal" and p % k:
            raise ValueError(f"generalized=False needs P a multiple of K, got P={p}, K={k}.")

    def _score(self, assignments, gram, cross, energy, n_samples):
        """Mean loss over references of assignments ``[batch or 1, N, P]`` -> ``[batch, N]``."""
        onehot = F.one_hot(assignments, cross.shape[1]).transpose(-1, -2).to(gram.dtype)  # [b, N, K, P]
        remix_energy = (torch.matmul(onehot, gram.unsqueeze(1)) * onehot).sum(-1)
        remix_cross = (onehot * cross.unsqueeze(1)).sum(-1)
        losses = loss_from_stats(
            self.loss, energy.unsqueeze(1), remix_cross, remix_energy, n_samples, self.eps, self.snr_max
        )
        return losses.mean(-1)

    def _exhaustive(self, gram, cross, energy, n_samples):
        n_refs, n_outputs = cross.shape[1:]
        candidates = all_assignments(n_refs, n_outputs, self.mode).to(gram.device)
        best_loss = torch.full((gram.shape[0],), math.inf, dtype=gram.dtype, device=gram.device)
        best = torch.zeros(gram.shape[0], n_outputs, dtype=torch.long, device=gram.device)
        # Blocks bound the memory of the [batch, block, K, P] intermediates at large P.
        for block in candidates.split(8192):
            loss, idx = self._score(block[None], gram, cross, energy, n_samples).min(1)
            better = loss < best_loss
            best_loss = torch.where(better, loss, best_loss)
            best[better] = block[idx[better]]
        return best

    def _local(self, gram, cross, energy, n_samples):
        batch, n_refs, n_outputs = cross.shape
        device = gram.device
        pairs = torch.triu_indices(n_outputs, n_outputs, 1, device=device)
        swap_perm = torch.arange(n_outputs, device=device).repeat(pairs.shape[1], 1)
        rows = torch.arange(pairs.shape[1], device=device)
        swap_perm[rows, pairs[0]], swap_perm[rows, pairs[1]] = pairs[1], pairs[0]
        is_self = torch.eye(n_outputs, dtype=torch.bool, device=device)[:, None, :]  # [P, 1, P]
        shifts = torch.arange(1, n_refs, device=device)[None, :, None]  # [1, K-1, 1]
        contiguous = torch.arange(n_outputs, device=device) * n_refs // n_outputs
        generator = torch.Generator().manual_seed(0)
        starts = [contiguous] + [
            contiguous[torch.randperm(n_outputs, generator=generator).to(device)] for _ in range(self.restarts - 1)
        ]
        best_loss = torch.full((batch,), math.inf, dtype=gram.dtype, device=device)
        best = torch.zeros(batch, n_outputs, dtype=torch.long, device=device)
        for start in starts:
            current = start.expand(batch, -1).clone()
            current_loss = self._score(current[:, None], gram, cross, energy, n_samples)[:, 0]
            while True:
                moves = torch.where(is_self, (current[:, None, None] + shifts) % n_refs, current[:, None, None])
                swaps = current[:, swap_perm]
                candidates = torch.cat([moves.reshape(batch, -1, n_outputs), swaps], 1)
                loss = self._score(candidates, gram, cross, energy, n_samples)
                loss = loss.masked_fill(~_valid(candidates, n_refs, self.mode), math.inf)
                loss, idx = loss.min(1)
                improved = loss < current_loss - 1e-12
                if not improved.any():
                    break
                current[improved] = candidates[improved, idx[improved]]
                current_loss = torch.where(improved, loss, current_loss)
            better = current_loss < best_loss
            best_loss = torch.where(better, current_loss, best_loss)
            best[better] = current[better]
        return best

    def best_assignment(self, est, refs):
        """The best assignment ``[batch, P]`` (reference index of each estimate); no gradient."""
        self._check(est, refs)
        with torch.no_grad():
            est64, refs64 = est.detach().double(), refs.detach().double()
            if self.zero_mean:
                est64 = est64 - est64.mean(-1, keepdim=True)
                refs64 = refs64 - refs64.mean(-1, keepdim=True)
            gram = torch.bmm(est64, est64.transpose(1, 2))  # [batch, P, P]
            cross = torch.bmm(refs64, est64.transpose(1, 2))  # [batch, K, P]
            energy = refs64.pow(2).sum(-1)  # [batch, K]
            n_refs, n_outputs = refs.shape[1], est.shape[1]
            exhaustive = self.search == "exhaustive" or (
                self.search == "auto" and n_refs**n_outputs <= self.max_assignments
            )
            find = self._exhaustive if exhaustive else self._local
            return find(gram, cross, energy, est.shape[-1])

    def forward(self, est, refs, return_est=False):
        """Loss of the best assignment; see the class docstring for shapes."""
        assignment = self.best_assignment(est, refs)
        onehot = F.one_hot(assignment, refs.shape[1]).transpose(1, 2).to(est.dtype)  # [batch, K, P]
        remixed = torch.bmm(onehot, est)
        # The value and its gradient come from the chosen remix itself, in float64.
        y, x = remixed.double(), refs.double()
        if self.zero_mean:
            y, x = y - y.mean(-1, keepdim=True), x - x.mean(-1, keepdim=True)
        losses = loss_from_stats(
            self.loss, x.pow(2).sum(-1), (x * y).sum(-1), y.pow(2).sum(-1), x.shape[-1], self.eps, self.snr_max
        )
        losses = losses.mean(-1).to(est.dtype)
        loss = losses.mean() if self.reduction == "mean" else losses
        return (loss, remixed, assignment) if return_est else loss
