"""mini2mix: a small two-speaker corpus synthesised offline, in the layout of wsj0-2mix.

``<root>/wav8k/min/{tr,cv,tt}/{mix,s1,s2}/<name>.wav`` at 8 kHz. Every speaker is a synthetic
eSpeak NG voice (:mod:`asteroid_deepmask.data.mini2mix.synthetic_speech`); ``tr`` and ``cv`` draw from
the training speakers and ``tt`` from speakers never seen in training. As in wsj0-2mix, the two
utterances are cut to the shorter one ("min"), brought to the same RMS, set apart by a relative
level drawn uniformly from [-5, 5] dB, and scaled together to keep the mixture below 0.9.
"""
import os

import numpy as np
import soundfile as sf
import torch

from ..corpus_folder import SPLITS, claim_folder, mark_complete
from .synthetic_speech import make_speakers, random_sentence, synthesise

MARKER = "mini2mix.json"


def _resample(wav, rate, target):
    import torchaudio.functional as AF

    return AF.resample(torch.from_numpy(wav), rate, target).numpy()


def _utterance(rng, speaker, sample_rate, min_seconds):
    """Sentences by ``speaker`` at ``sample_rate``, at least ``min_seconds`` long."""
    wav = np.zeros(0, np.float32)
    while len(wav) < min_seconds * sample_rate:
        part, rate = synthesise(random_sentence(rng), speaker)
        wav = np.concatenate([wav, _resample(part, rate, sample_rate)])
    return wav


def _unit_rms(wav):
    return wav / (np.sqrt(np.mean(wav**2)) + 1e-8)


def make_mini2mix(root, n_mixtures=(200, 50, 50), n_speakers=16, n_test_speakers=4, sample_rate=8000,
                  min_seconds=1.5, seed=0):
    """Synthesise the corpus into ``root`` (see the module docstring); returns its description.

    Args:
        n_mixtures (tuple): mixtures in ``tr``, ``cv`` and ``tt``.
        n_speakers (int): synthetic voices in all (at least 12: the test set needs its own).
        n_test_speakers (int): voices kept for ``tt`` only.
        min_seconds (float): least duration of each utterance before the "min" cut.

    Re-running with the same arguments changes nothing once the corpus is complete, and writes an
    interrupted one again (``root/mini2mix.json`` records them; see :mod:`asteroid_deepmask.data.corpus_folder`).

    Raises:
        ValueError: ``root`` holds other files (never overwritten), or a corpus made with
            other arguments; or too few speakers.
    """
    if n_speakers < 12 or not 2 <= n_test_speakers <= n_speakers - 2:
        raise ValueError(
            f"n_speakers={n_speakers}, n_test_speakers={n_test_speakers}: need at least 12 voices, "
            "with at least 2 for the test set and 2 for training."
        )
    description = dict(n_mixtures=list(n_mixtures), n_speakers=n_speakers, n_test_speakers=n_test_speakers,
                       sample_rate=sample_rate, min_seconds=min_seconds, seed=seed)
    if claim_folder(root, MARKER, description):
        return description
    rng = np.random.default_rng(seed)
    speakers = make_speakers(n_speakers, seed)
    # Test voices spread over the voice families (every k-th), the rest for training.
    step = n_speakers // n_test_speakers
    test = speakers[::step][:n_test_speakers]
    train = [s for s in speakers if s not in test]
    pools = {"tr": train, "cv": train, "tt": test}
    for split, count in zip(SPLITS, n_mixtures):
        folders = {k: os.path.join(root, "wav8k", "min", split, k) for k in ("mix", "s1", "s2")}
        for folder in folders.values():
            os.makedirs(folder, exist_ok=True)
        for i in range(count):
            first, second = rng.choice(len(pools[split]), size=2, replace=False)
            a, b = pools[split][first], pools[split][second]
            s1 = _utterance(rng, a, sample_rate, min_seconds)
            s2 = _utterance(rng, b, sample_rate, min_seconds)
            level = rng.uniform(-5, 5)
            n = min(len(s1), len(s2))
            s1, s2 = _unit_rms(s1[:n]) * 10 ** (level / 40), _unit_rms(s2[:n]) * 10 ** (-level / 40)
            scale = 0.9 / max(np.abs(s1 + s2).max(), 0.9)
            name = f"{i:05d}_{a.name}_{level:.2f}_{b.name}_{-level:.2f}.wav"
            for key, wav in (("s1", s1 * scale), ("s2", s2 * scale), ("mix", (s1 + s2) * scale)):
                sf.write(os.path.join(folders[key], name), wav.astype(np.float32), sample_rate, subtype="FLOAT")
    mark_complete(root, MARKER, description)
    return description
