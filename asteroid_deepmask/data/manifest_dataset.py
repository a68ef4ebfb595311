"""The utterances of a manifest (:mod:`~asteroid_deepmask.data.manifests`) as a PyTorch Dataset."""
import json

import numpy as np
import soundfile as sf
import torch


class ManifestDataset(torch.utils.data.Dataset):
    """``(mix [time], sources [n_src, time])`` from a manifest; with ``segment`` samples, a random
    crop of that length (shorter utterances are zero-padded).

    Args:
        manifest (str): a ``{tr,cv,tt}.json`` file, ``[{"id", "mix", "sources", "samples"}]``.
        segment (int, optional): crop length in samples; None reads whole utterances.
        seed (int): seed of the crops' start positions.
    """

    def __init__(self, manifest, segment=None, seed=0):
        with open(manifest) as f:
            self.entries = json.load(f)
        if not self.entries:
            raise ValueError(f"{manifest} lists no utterances.")
        self.segment, self.rng = segment, np.random.default_rng(seed)

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        start, stop = 0, None
        if self.segment:
            start = int(self.rng.integers(0, max(1, entry["samples"] - self.segment + 1)))
            stop = start + self.segment
        read = lambda path: sf.read(path, start=start, stop=stop, dtype="float32")[0]  # noqa: E731
        mix, sources = read(entry["mix"]), np.stack([read(s) for s in entry["sources"]])
        if self.segment and len(mix) < self.segment:
            pad = self.segment - len(mix)
            mix, sources = np.pad(mix, (0, pad)), np.pad(sources, ((0, 0), (0, pad)))
        return torch.from_numpy(mix), torch.from_numpy(sources)
