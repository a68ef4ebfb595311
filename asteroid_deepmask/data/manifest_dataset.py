"""The utterances of a manifest (:mod:`~asteroid_deepmask.data.manifests`) as a PyTorch Dataset."""
import json

import numpy as np
import soundfile as sf
import torch


def read_segment(path, start=0, length=None):
    """``length`` samples of a wav file from ``start`` (zero-padded past its end); None reads to the end.

    Returns:
        np.ndarray: ``[time]``, float32.
    """
    wav = sf.read(path, start=start, stop=None if length is None else start + length, dtype="float32")[0]
    if length is not None and len(wav) < length:
        wav = np.pad(wav, (0, length - len(wav)))
    return wav


def _process_key():
    """What tells this process's random stream apart from the others' (see :attr:`ManifestDataset.rng`)."""
    info = torch.utils.data.get_worker_info()
    if info is not None:
        # torch's seed in a worker is drawn by the main process (from its seeded generator) for every
        # worker and, unless the workers are persistent, every epoch; Lightning's worker_init_fn also
        # folds the DDP rank into it.
        return torch.initial_seed(), info.id + 1
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    return 0, 0, torch.distributed.get_rank() if distributed else 0


class ManifestDataset(torch.utils.data.Dataset):
    """``(mix [time], sources [n_src, time])`` from a manifest; with ``segment`` samples, a random
    crop of that length (shorter utterances are zero-padded).

    Crops come from :attr:`rng`, one stream per DataLoader worker (and DDP rank), so workers do
    not repeat each other's crops, and a run with the same ``seed`` (and torch seed) repeats them.

    Args:
        manifest (str): a ``{tr,cv,tt}.json`` file, ``[{"id", "mix", "sources", "samples"}]``.
        segment (int, optional): crop length in samples; None reads whole utterances.
        seed (int): seed of the random streams.

    Example (after ``./egs/mini2mix/run.sh --stop-stage 1``)::

        train = ManifestDataset("data/mini2mix/manifests/tr.json", segment=8000)
        mix, sources = train[0]          # [8000], [2, 8000]
    """

    def __init__(self, manifest, segment=None, seed=0):
        with open(manifest) as f:
            self.entries = json.load(f)
        if not self.entries:
            raise ValueError(f"{manifest} lists no utterances.")
        self.segment, self.seed = segment, seed
        self._rng, self._rng_key = None, None

    @property
    def rng(self):
        """This process's ``numpy.random.Generator``, made on first use in each worker (a copy of the
        dataset made before the workers started must not share its stream with them)."""
        key = _process_key()
        if key != self._rng_key:
            self._rng, self._rng_key = np.random.default_rng([self.seed, *key]), key
        return self._rng

    def random_start(self, samples, length, rng=None):
        """A start drawn uniformly (from ``rng``, else :attr:`rng`) so that ``length`` samples fit in
        ``samples`` (0 when they do not)."""
        return int((rng or self.rng).integers(0, max(1, samples - length + 1)))

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        start = self.random_start(entry["samples"], self.segment) if self.segment else 0
        mix = read_segment(entry["mix"], start, self.segment)
        sources = np.stack([read_segment(s, start, self.segment) for s in entry["sources"]])
        return torch.from_numpy(mix), torch.from_numpy(sources)
