"""Dynamic mixing: new training mixtures every epoch, from the training sources of a manifest.

As in SpeechBrain's WSJ0Mix recipe (SepFormer on WSJ0-2mix: 20.4 dB SI-SNRi without, 22.4 dB
with), each example draws ``n_src`` source files of distinct speakers (a speaker with more files
is drawn more often), crops ``segment`` samples of each at random, optionally changes their speed
by resampling, brings each to unit RMS times a random gain, and sums them. Noisy corpora
(WHAMR!, LibriMix ``mix_both``) add a noise crop of another mixture at a random SNR. Only the
training set is remixed; validation and test keep their fixed mixtures.

The speakers of a manifest entry are its ``"speakers"`` list when it has one, else read from
its ``id`` by the parser of the experiment's ``data.dataset`` (:data:`SPEAKER_PARSERS`). The noise
of an entry is its ``"noise"`` path when it has one, else, for mixtures in a ``mix_both*`` folder,
the file of the same name in the sibling ``noise`` folder.
"""
import math
import os
from fractions import Fraction

import numpy as np
import torch

from .manifest_dataset import ManifestDataset, read_segment


def _wsj0_speakers(mixture_id):
    # "011a0101_1.0_401o030i_-1.0": utterance and gain per source; a WSJ0 speaker is 3 characters
    return [utterance[:3] for utterance in mixture_id.split("_")[0::2]]


def _librimix_speakers(mixture_id):
    # "19-198-0001_26-495-0009": LibriSpeech speaker-chapter-utterance per source
    return [utterance.split("-")[0] for utterance in mixture_id.split("_")]


def _mini2mix_speakers(mixture_id):
    # "00000_klatt2-p46-r141_-4.66_f4-p67-r145_4.66": index, then voice and level per source
    return mixture_id.split("_")[1::2]


#: ``data.dataset`` -> the speakers of a mixture id, one per source.
SPEAKER_PARSERS = {
    "mini2mix": _mini2mix_speakers,
    "wsj0-2mix": _wsj0_speakers,
    "wsj0-3mix": _wsj0_speakers,
    "whamr": _wsj0_speakers,
    "librimix": _librimix_speakers,
}


def _noise_path(entry):
    if "noise" in entry:
        return entry["noise"]
    mix_dir, name = os.path.split(entry["mix"])
    if os.path.basename(mix_dir).startswith("mix_both"):
        return os.path.join(os.path.dirname(mix_dir), "noise", name)
    return None


def _speakers(entry, dataset):
    if "speakers" in entry:
        speakers = entry["speakers"]
    elif dataset in SPEAKER_PARSERS:
        speakers = SPEAKER_PARSERS[dataset](entry["id"])
    else:
        raise ValueError(
            f"Dynamic mixing cannot tell the speakers of data.dataset={dataset!r}: give each manifest entry a "
            f"\"speakers\" list, or use one of {sorted(SPEAKER_PARSERS)}."
        )
    if len(speakers) != len(entry["sources"]):
        raise ValueError(f"Manifest entry {entry['id']!r} has {len(entry['sources'])} sources but names "
                         f"{len(speakers)} speakers {speakers}: dynamic mixing needs one speaker per source (not "
                         "an enhancement task's); give each entry a \"speakers\" list or set data.dynamic_mixing "
                         "to false.")
    return speakers


def _ratio(speed):
    return Fraction(speed).limit_denominator(100)


def _resampler(speed):
    """Resampling that makes a signal ``speed`` times faster (``length / speed`` samples)."""
    import torchaudio  # only with speed perturbation

    ratio = _ratio(speed)
    return torchaudio.transforms.Resample(ratio.numerator, ratio.denominator)


def _range(name, value):
    low, high = value
    if not low <= high:
        raise ValueError(f"data.{name}={list(value)}: give [low, high] with low <= high.")
    return float(low), float(high)


class DynamicMixingDataset(ManifestDataset):
    """``(mix [time], sources [n_src, time])``: a new mixture at every access, drawn from this
    process's random stream (:attr:`ManifestDataset.rng`); an epoch has as many as the manifest.

    The returned mixture is the sum of the returned sources (plus the noise on noisy corpora),
    all scaled together to a peak of 0.9.

    Args:
        manifest (str): the training manifest, ``[{"id", "mix", "sources", "samples"}]``.
        dataset (str): the experiment's ``data.dataset``, which says how to read speakers from ids.
        segment (int): samples per example.
        gain_db (tuple): range of each source's gain in dB over unit RMS, drawn uniformly.
            The default (-2.5, 2.5) is wsj0-2mix's own spread; SpeechBrain draws a relative level
            with a 2.66 dB standard deviation.
        noise_snr_db (tuple): range of the speech-to-noise ratio in dB (WHAM!'s is -6 to 3).
        speeds (sequence of float, optional): speed factors drawn per source (e.g. 0.95, 1, 1.05,
            as in SpeechBrain); None keeps the speed.
        seed (int): seed of the random streams.

    Example (after ``./egs/mini2mix/run.sh --stop-stage 1``)::

        train = DynamicMixingDataset("data/mini2mix/manifests/tr.json", "mini2mix", segment=8000,
                                     speeds=[0.95, 1.0, 1.05])
        mix, sources = train[0]          # [8000], [2, 8000]
        torch.allclose(mix, sources.sum(0))  # True
    """

    def __init__(self, manifest, dataset, segment, gain_db=(-2.5, 2.5), noise_snr_db=(-6.0, 3.0), speeds=None,
                 seed=0):
        super().__init__(manifest, segment, seed)
        self.gain_db = _range("dynamic_mixing_gain_db", gain_db)
        self.noise_snr_db = _range("dynamic_mixing_noise_snr_db", noise_snr_db)
        self.n_src = len(self.entries[0]["sources"])
        self.files = {}  # speaker -> [(path, samples)]
        for entry in self.entries:
            for speaker, path in zip(_speakers(entry, dataset), entry["sources"]):
                self.files.setdefault(speaker, []).append((path, entry["samples"]))
        if len(self.files) < self.n_src:
            raise ValueError(f"{manifest} has {len(self.files)} speakers {sorted(self.files)}; dynamic mixing of "
                             f"{self.n_src} sources needs at least {self.n_src}.")
        self.speakers = sorted(self.files)
        counts = np.array([len(self.files[s]) for s in self.speakers], dtype=float)
        self.speaker_p = counts / counts.sum()
        self.noises = [(n, e["samples"]) for e in self.entries if (n := _noise_path(e)) is not None]
        missing = [n for n, _ in self.noises if not os.path.isfile(n)]
        if missing:
            raise FileNotFoundError(f"No noise file {missing[0]} ({len(missing)} missing): dynamic mixing of noisy "
                                    "mixtures needs the corpus's noise folder, or a \"noise\" path in each entry.")
        self.speeds = list(speeds or [1.0])
        if min(self.speeds) <= 0:
            raise ValueError(f"data.dynamic_mixing_speeds={self.speeds}: speeds must be positive (e.g. 0.95).")
        self.resamplers = {speed: _resampler(speed) for speed in self.speeds if _ratio(speed) != 1}

    def _crop(self, path, samples, speed):
        """A random crop of ``segment`` samples after the speed change, ``[time]``."""
        # A speed whose ratio rounds to 1 (e.g. 1.004) has no resampler: read the segment as it is.
        need = math.ceil(self.segment * speed) if speed in self.resamplers else self.segment
        wav = read_segment(path, self.random_start(samples, need), need)
        if speed in self.resamplers:
            wav = self.resamplers[speed](torch.from_numpy(wav)).numpy()
            wav = np.pad(wav, (0, max(0, self.segment - len(wav))))[: self.segment]
        return wav

    def _gain(self, wav, db):
        return wav * (10 ** (db / 20) / (np.sqrt(np.mean(wav**2)) + 1e-8))

    def __getitem__(self, index):
        rng = self.rng
        speakers = rng.choice(len(self.speakers), size=self.n_src, replace=False, p=self.speaker_p)
        sources = []
        for speaker in speakers:
            files = self.files[self.speakers[speaker]]
            path, samples = files[rng.integers(len(files))]
            wav = self._crop(path, samples, self.speeds[rng.integers(len(self.speeds))])
            sources.append(self._gain(wav, rng.uniform(*self.gain_db)))
        sources = np.stack(sources)
        mix = sources.sum(0)
        if self.noises:
            path, samples = self.noises[rng.integers(len(self.noises))]
            speech_db = 10 * np.log10(np.mean(mix**2) + 1e-12)
            mix = mix + self._gain(self._crop(path, samples, 1.0), speech_db - rng.uniform(*self.noise_snr_db))
        scale = 0.9 / max(np.abs(mix).max(), np.abs(sources).max(), 1e-8)
        mix, sources = (mix * scale).astype(np.float32), (sources * scale).astype(np.float32)
        return torch.from_numpy(mix), torch.from_numpy(sources)
