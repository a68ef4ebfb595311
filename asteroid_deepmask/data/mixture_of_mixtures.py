"""Mixtures of mixtures (MoMs) for unsupervised MixIT training: pairs of a batch's mixtures, or a
dataset that draws new pairs every epoch."""
import numpy as np
import torch

from .manifest_dataset import ManifestDataset, read_segment


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


def _rms(wav):
    return float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))


class MixturesOfMixturesDataset(ManifestDataset):
    """``(mom [time], mixtures [2, time])``: a mixture of mixtures (MoM) and the two mixtures it sums,
    drawn anew at every access; an epoch has one MoM per manifest entry.

    MoM ``i`` is a random crop of entry ``i`` plus a random crop of another entry drawn at random,
    brought to the first's RMS and then to a relative level drawn uniformly from ``gain_db``. With
    probability ``less_crowded_share`` the second mixture is silence instead: the MoM is one mixture,
    which MixIT must not split between the two references. Asteroid's 2+2-only MoMs did not train
    until about 10 % of less crowded cases were mixed in (asteroid issue #528).

    Only each entry's ``"mix"`` is read, never its ``"sources"``: a labelled corpus trains with
    MixIT from its mixtures alone, and manifests of unlabeled audio (:mod:`.unlabeled`) have none.

    Args:
        manifest (str): ``[{"id", "mix", "samples", ...}]``, at least 2 entries.
        segment (int): samples per mixture (shorter entries are zero-padded).
        gain_db (sequence): ``[low, high]``, the second mixture's level relative to the first's, in dB.
        less_crowded_share (float): probability of a silent second mixture, ``0 <= share < 1``.
        seed (int): seed of the random streams.
        fixed (bool): the same MoM at every access of an index (validation): MoM ``i`` is drawn from
            its own stream, seeded with ``(seed, i)``, whatever the epoch, process or worker.

    Example (after ``python -m asteroid_deepmask.recipe unlabeled --audio DIR --out data/mine ...``)::

        train = MixturesOfMixturesDataset("data/mine/tr.json", segment=32000, gain_db=[-5, 5])
        mom, mixtures = train[0]         # [32000], [2, 32000]
        torch.allclose(mom, mixtures.sum(0))  # True

    References:
        S. Wisdom et al., "Unsupervised Sound Separation Using Mixture Invariant Training", NeurIPS 2020.
    """

    def __init__(self, manifest, segment, gain_db=(-5.0, 5.0), less_crowded_share=0.0, seed=0, fixed=False):
        super().__init__(manifest, segment, seed)
        if len(self.entries) < 2:
            raise ValueError(f"{manifest} lists {len(self.entries)} mixture; mixtures of mixtures need at least 2.")
        low, high = gain_db
        if not low <= high:
            raise ValueError(f"data.mixit_gain_db={list(gain_db)}: give [low, high] with low <= high.")
        if not 0 <= less_crowded_share < 1:
            raise ValueError(f"data.mixit_less_crowded_share={less_crowded_share}: give a share >= 0 and < 1.")
        self.gain_db, self.less_crowded_share, self.fixed = (float(low), float(high)), less_crowded_share, fixed

    def _crop(self, entry, rng):
        return read_segment(entry["mix"], self.random_start(entry["samples"], self.segment, rng), self.segment)

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, index]) if self.fixed else self.rng
        first = self._crop(self.entries[index], rng)
        if rng.random() < self.less_crowded_share:
            second = np.zeros_like(first)
        else:
            other = int(rng.integers(len(self.entries) - 1))
            second = self._crop(self.entries[other + (other >= index)], rng)
            level, own = _rms(first), _rms(second)
            scale = level / own if level > 0 and own > 0 else 1.0
            second = (second * scale * 10 ** (rng.uniform(*self.gain_db) / 20)).astype(np.float32)
        mixtures = torch.from_numpy(np.stack([first, second]))
        return mixtures.sum(0), mixtures
