"""Mixture invariant training loss that scores every output-to-reference assignment at once.

For an assignment of P estimates ``s_p`` to K references ``x_k``, reference k is compared with
the remix ``y_k = sum of the s_p assigned to k``. SNR-type losses depend on ``y_k`` only through
``||x_k||^2``, ``<x_k, y_k>`` and ``||y_k||^2``, which are sums of entries of the P x P Gram
matrix ``G = S S^T`` and of the K x P matrix ``C = X S^T``. Both are computed once, in one
pass over the waveforms; then all K^P assignments are scored with small matrix products, and
only the best one is remixed as waveforms, for the loss value and its gradient. Any other loss
callable is scored on remixed waveforms, many assignments per call.
"""
import functools
import math

import torch
from asteroid.losses.mse import PairwiseMSE, SingleSrcMSE
from asteroid.losses.sdr import MultiSrcNegSDR, PairwiseNegSDR, SingleSrcNegSDR
from torch import nn
from torch.nn import functional as F

#: Losses the wrapper can score from Gram matrices.
MIXIT_LOSSES = ("neg_snr", "neg_sisdr", "neg_sdsdr", "mse", "thresholded_snr")
SEARCHES = ("auto", "exhaustive", "local")
_SDR_LOSSES = ("neg_snr", "neg_sisdr", "neg_sdsdr")
#: The MixIT paper's SNR cap of ``thresholded_snr``, in dB (``tau = 1e-3``).
SNR_MAX = 30.0


def loss_from_stats(loss, energy, cross, remix_energy, n_samples, eps=1e-8, snr_max=SNR_MAX):
    """Per-reference loss from ``e = ||x||^2``, ``c = <x, y>`` and ``q = ||y||^2`` (any shapes).

    * ``neg_snr``: ``-10 log10(e / (||x - y||^2 + eps) + eps)``, Asteroid's ``multisrc_neg_snr``.
    * ``neg_sisdr``: negative scale-invariant SDR, Asteroid's ``multisrc_neg_sisdr``.
    * ``neg_sdsdr``: negative scale-dependent SDR, Asteroid's ``multisrc_neg_sdsdr``.
    * ``mse``: ``||x - y||^2 / n_samples``, Asteroid's ``multisrc_mse``.
    * ``thresholded_snr``: MixIT's ``10 log10(||x - y||^2 + tau ||x||^2)``, with
      ``tau = 10^(-snr_max / 10)``: an SNR loss that stops rewarding past ``snr_max`` dB.
    """
    e, c, q = energy, cross, remix_energy
    error = (e - 2 * c + q).clamp_min(0)  # ||x - y||^2; clamped against rounding below zero
    if loss == "mse":
        return error / n_samples
    if loss == "thresholded_snr":
        return 10 * torch.log10(error + 10 ** (-snr_max / 10) * e + eps)
    if loss == "neg_snr":
        signal, noise = e, error
    else:  # SI-SDR and SD-SDR measure the projection a x of y on x, a = <x, y> / ||x||^2
        scale = c / (e + eps)
        signal = scale * scale * e
        noise = error if loss == "neg_sdsdr" else (q - 2 * scale * c + signal).clamp_min(0)
    return -10 * torch.log10(signal / (noise + eps) + eps)


def gram_equivalent(loss):
    """The Gram path's settings that compute an Asteroid loss object exactly, else None.

    Recognised: instances of Asteroid's ``MultiSrcNegSDR``, ``SingleSrcNegSDR`` (with
    ``reduction="none"``) and ``PairwiseNegSDR`` with ``take_log=True`` (any ``sdr_type``,
    ``zero_mean`` and ``EPS``), and of ``MultiSrcMSE`` / ``SingleSrcMSE`` and ``PairwiseMSE``:
    ``asteroid.losses.multisrc_neg_sisdr``, ``singlesrc_mse``, ``pairwise_neg_snr`` and the
    like. A single-source loss is applied to each remix and its reference, a pairwise one keeps
    the diagonal of its ``[batch, K, K]`` matrix (each remix against its own reference); both
    are then averaged over the references, as the multi-source form. A subclass that overrides
    ``forward``, or a module with forward hooks, is another loss and gets None.

    Args:
        loss: any object.

    Returns:
        dict: ``loss`` (a name of :data:`MIXIT_LOSSES`), and for SDR losses ``zero_mean`` and
        ``eps``; or None.

    Example:
        >>> from asteroid.losses import pairwise_neg_sisdr, multisrc_mse
        >>> gram_equivalent(pairwise_neg_sisdr)
        {'loss': 'neg_sisdr', 'zero_mean': True, 'eps': 1e-08}
        >>> gram_equivalent(multisrc_mse), gram_equivalent(lambda est, refs: (est - refs).abs())
        ({'loss': 'mse'}, None)
    """
    if not isinstance(loss, nn.Module) or loss._forward_hooks or loss._forward_pre_hooks:
        return None
    forward = type(loss).forward
    if forward in (PairwiseMSE.forward, SingleSrcMSE.forward):
        return {"loss": "mse"}
    if forward not in (PairwiseNegSDR.forward, SingleSrcNegSDR.forward, MultiSrcNegSDR.forward):
        return None
    name, eps = f"neg_{getattr(loss, 'sdr_type', None)}", getattr(loss, "EPS", None)
    # SingleSrcNegSDR with reduction="mean" averages over the batch, not over references.
    batch_mean = forward is SingleSrcNegSDR.forward and loss.reduction != "none"
    if name not in _SDR_LOSSES or not getattr(loss, "take_log", False) or batch_mean:
        return None
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        return None
    return {"loss": name, "zero_mean": bool(getattr(loss, "zero_mean", True)), "eps": float(eps)}


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


def _onehot(assignments, n_refs, dtype):
    """Assignments ``[..., P]`` as remix matrices ``[..., K, P]``: ``remixes = onehot @ est``."""
    return F.one_hot(assignments, n_refs).transpose(-1, -2).to(dtype)


class MixITWrapper(nn.Module):
    """MixIT loss wrapper: best grouping of P estimates into K references, found exactly.

    Call convention of Asteroid's loss wrappers: ``loss = wrapper(est, refs)``. For
    unsupervised MixIT the references are the mixtures that were summed into the input; for
    supervised dynamic grouping they are the C sources (the best assignment replaces the
    paper's contiguous grouping).

    Losses: a name of :data:`MIXIT_LOSSES`, or a loss callable as Asteroid's
    ``MixITLossWrapper(loss_func)`` takes. Names, and the Asteroid losses that
    :func:`gram_equivalent` recognises (``multisrc_neg_sisdr``, ``multisrc_neg_snr``,
    ``multisrc_mse``, their ``singlesrc_`` and ``pairwise_`` forms, SD-SDR too), are scored from
    Gram matrices. Any other callable is scored on remixed waveforms: it is called as
    ``loss(remixes, refs)`` on two ``[n, K, time]`` tensors in the dtype and on the device of
    ``est``, and must return ``[n]``, one loss per example (lower is better), each computed
    from its own example alone, as Asteroid's wrapper requires, and must not modify its inputs
    in place (``refs`` is shared between calls). During the search ``n`` is the batch times a
    chunk of assignments (at most ``chunk_samples`` remix samples a call, no gradient); then it
    is called once on the best remixes (``n`` = batch) for the value and its gradient.

    Search: with ``search="auto"``, all allowed assignments are scored when there are at most
    ``max_assignments`` candidates (K^P; 2^16 covers P = 16 for K = 2), else a local search
    runs: from the contiguous grouping and ``restarts - 1`` random permutations of it, it
    repeatedly takes the best single move (one output to another reference) or swap (two
    outputs between references) until none lowers the loss. On random cases small enough to
    check it finds the exact optimum in most cases (see ``tests/losses/test_mixit.py``).

    Args:
        loss (str or callable): one of :data:`MIXIT_LOSSES`, or a callable as above. Defaults
            to ``"neg_snr"`` (the paper's loss).
        generalized (bool): as Asteroid's ``MixITLossWrapper``: True (default) allows any
            assignment (a reference may get no estimate); False requires every reference to
            get exactly P / K estimates.
        require_nonempty (bool): with ``generalized=True``, require every reference to get at
            least one estimate. Defaults to False.
        reduction (str): ``"mean"`` over the batch or ``"none"``. Defaults to ``"mean"``.
        search (str): ``"auto"``, ``"exhaustive"`` or ``"local"``. Defaults to ``"auto"``.
        max_assignments (int): largest K^P scored exhaustively by ``"auto"``. Defaults to 2^16.
        restarts (int): starting points of the local search. Defaults to 8.
        zero_mean (bool): remove the mean of estimates and references first (SNR and SDR
            names, as Asteroid does). Defaults to True.
        snr_max (float): SNR cap in dB of ``thresholded_snr``. Defaults to 30.
        eps (float): stabiliser of the logs and ratios. Defaults to 1e-8.
        chunk_samples (int): with a callable scored on waveforms, the most remix samples
            (batch x assignments x K x time) passed to one call, but at least one assignment;
            bounds the search's memory to about twice that plus the loss's own intermediates.
            Defaults to 2^18: on CPU, calls whose tensors stay in cache beat one call on all
            assignments (10x at P = 8 on 4 x 8000 samples); a GPU may prefer larger chunks.

    ``zero_mean`` and ``eps`` apply to names: a recognised Asteroid loss brings its own
    ``zero_mean`` and ``EPS``.

    Attributes:
        loss (str or None): the name scored from Gram matrices; None for a callable scored on
            waveforms.
        loss_func (callable or None): that callable.

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
        >>> from asteroid.losses import multisrc_neg_sisdr
        >>> MixITWrapper(multisrc_neg_sisdr).loss  # the same loss as "neg_sisdr"
        'neg_sisdr'
        >>> l1 = MixITWrapper(lambda remixes, refs: (remixes - refs).abs().mean((1, 2)))
        >>> l1(est, mixtures, return_est=True)[2].shape
        torch.Size([3, 8])

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
        snr_max=SNR_MAX,
        eps=1e-8,
        chunk_samples=2**18,
    ):
        super().__init__()
        if isinstance(loss, str) and loss in MIXIT_LOSSES:
            settings, loss_func = {"loss": loss}, None
        elif callable(loss):
            settings = gram_equivalent(loss)
            loss_func = loss if settings is None else None
        else:
            raise ValueError(
                f"Unknown loss={loss!r}: pass one of {list(MIXIT_LOSSES)} or a callable "
                "loss(remixes [n, K, time], refs [n, K, time]) -> [n], such as asteroid.losses.multisrc_neg_sisdr."
            )
        if reduction not in ("mean", "none"):
            raise ValueError(f"reduction={reduction!r}; choose 'mean' or 'none'.")
        if search not in SEARCHES:
            raise ValueError(f"Unknown search={search!r}; choose one of {list(SEARCHES)}.")
        if min(max_assignments, restarts, chunk_samples) < 1:
            raise ValueError(
                f"max_assignments={max_assignments}, restarts={restarts} and chunk_samples={chunk_samples} "
                "must be >= 1."
            )
        settings = {"loss": None, "zero_mean": zero_mean, "eps": eps, **(settings or {})}
        self.loss, self.loss_func = settings["loss"], loss_func
        self.reduction, self.search = reduction, search
        self.generalized, self.require_nonempty = generalized, require_nonempty
        self.max_assignments, self.restarts, self.chunk_samples = max_assignments, restarts, chunk_samples
        self.zero_mean = settings["zero_mean"] and self.loss in _SDR_LOSSES
        self.snr_max, self.eps = snr_max, settings["eps"]
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

    def _call_loss(self, remixes, refs):
        """The callable's loss ``[n]`` of remixes ``[n, K, time]``, its output shape checked."""
        value = self.loss_func(remixes, refs)
        if not torch.is_tensor(value) or value.shape != remixes.shape[:1]:
            got = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise ValueError(
                f"loss={self.loss_func!r} must return one value per example, shape ({remixes.shape[0]},) "
                f"for inputs {tuple(remixes.shape)}, got {got}."
            )
        return value

    def _float64(self, *signals):
        """Signals in float64, their means removed where the loss does."""
        signals = [x.double() for x in signals]
        return [x - x.mean(-1, keepdim=True) for x in signals] if self.zero_mean else signals

    def _gram_scorer(self, est, refs):
        """``score(assignments [batch or 1, N, P]) -> [batch, N]``, mean loss over references."""
        est64, refs64 = self._float64(est, refs)
        gram = torch.bmm(est64, est64.transpose(1, 2)).unsqueeze(1)  # [batch, 1, P, P]
        cross = torch.bmm(refs64, est64.transpose(1, 2)).unsqueeze(1)  # [batch, 1, K, P]
        energy = refs64.pow(2).sum(-1).unsqueeze(1)  # [batch, 1, K]

        def score(assignments):
            onehot = _onehot(assignments, refs.shape[1], gram.dtype)  # [batch or 1, N, K, P]
            remix_energy = (torch.matmul(onehot, gram) * onehot).sum(-1)
            remix_cross = (onehot * cross).sum(-1)
            losses = loss_from_stats(
                self.loss, energy, remix_cross, remix_energy, est.shape[-1], self.eps, self.snr_max
            )
            return losses.mean(-1)

        return score

    def _waveform_scorer(self, est, refs):
        """``score(assignments [batch or 1, N, P]) -> [batch, N]`` from the callable on remixes."""
        batch, n_refs, n_samples = refs.shape
        chunk = max(1, self.chunk_samples // (batch * n_refs * n_samples))

        # Blocks come in a few sizes (full chunks, the rest, a local search's current
        # assignment), so the repeated references are copied once per size, not once per call.
        @functools.lru_cache(maxsize=4)
        def targets(n):
            return refs.unsqueeze(1).expand(batch, n, n_refs, n_samples).reshape(batch * n, n_refs, n_samples)

        def score(assignments):
            values = []
            for block in assignments.split(chunk, dim=1):
                n = block.shape[1]
                onehot = _onehot(block, n_refs, est.dtype).flatten(1, 2)  # [batch or 1, n K, P]
                remixes = torch.matmul(onehot, est).view(batch * n, n_refs, n_samples)
                values.append(self._call_loss(remixes, targets(n)).view(batch, n))
            return torch.cat(values, 1)

        return score

    def _exhaustive(self, score, batch, n_refs, n_outputs, device):
        candidates = all_assignments(n_refs, n_outputs, self.mode).to(device)
        best_loss = torch.full((batch,), math.inf, dtype=torch.float64, device=device)
        best = torch.zeros(batch, n_outputs, dtype=torch.long, device=device)
        # Blocks bound the memory of the [batch, block, K, P] intermediates at large P.
        for block in candidates.split(8192):
            loss, idx = score(block[None]).double().min(1)
            better = loss < best_loss
            best_loss = torch.where(better, loss, best_loss)
            best[better] = block[idx[better]]
        return best

    def _local(self, score, batch, n_refs, n_outputs, device):
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
        best_loss = torch.full((batch,), math.inf, dtype=torch.float64, device=device)
        best = torch.zeros(batch, n_outputs, dtype=torch.long, device=device)
        for start in starts:
            current = start.expand(batch, -1).clone()
            current_loss = score(current[:, None])[:, 0].double()
            while True:
                moves = torch.where(is_self, (current[:, None, None] + shifts) % n_refs, current[:, None, None])
                swaps = current[:, swap_perm]
                candidates = torch.cat([moves.reshape(batch, -1, n_outputs), swaps], 1)
                loss = score(candidates).double()
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
        (batch, n_outputs, _), n_refs = est.shape, refs.shape[1]
        with torch.no_grad():
            scorer = self._waveform_scorer if self.loss is None else self._gram_scorer
            score = scorer(est.detach(), refs.detach())
            exhaustive = self.search == "exhaustive" or (
                self.search == "auto" and n_refs**n_outputs <= self.max_assignments
            )
            find = self._exhaustive if exhaustive else self._local
            return find(score, batch, n_refs, n_outputs, est.device)

    def forward(self, est, refs, return_est=False):
        """Loss of the best assignment; see the class docstring for shapes."""
        assignment = self.best_assignment(est, refs)
        remixed = torch.bmm(_onehot(assignment, refs.shape[1], est.dtype), est)
        if self.loss is None:
            losses = self._call_loss(remixed, refs)
        else:
            # The value and its gradient come from the chosen remix itself, in float64.
            y, x = self._float64(remixed, refs)
            losses = loss_from_stats(
                self.loss, x.pow(2).sum(-1), (x * y).sum(-1), y.pow(2).sum(-1), x.shape[-1], self.eps, self.snr_max
            )
            losses = losses.mean(-1).to(est.dtype)
        loss = losses.mean() if self.reduction == "mean" else losses
        return (loss, remixed, assignment) if return_est else loss
