"""Mixtures of mixtures drawn every epoch: the MoM is the sum of its two mixtures, the second another
entry at a relative level spread over the configured range, the configured share of silent second
parts, and the same MoMs every epoch for validation."""
import json
import os

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask.data import MixturesOfMixturesDataset

RATE, SEGMENT = 8000, 400


def _manifest(root, n=6):
    """``n`` one-second mixtures, entry ``i`` a tone of ``200 * (i + 1)`` Hz at level ``0.1 * (i + 1)``."""
    t, entries = np.arange(RATE) / RATE, []
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        path = os.path.join(root, f"m{i}.wav")
        sf.write(path, (0.1 * (i + 1) * np.sin(2 * np.pi * 200 * (i + 1) * t)).astype(np.float32), RATE,
                 subtype="FLOAT")
        entries.append({"id": f"m{i}", "mix": path, "samples": RATE})
    with open(os.path.join(root, "tr.json"), "w") as f:
        json.dump(entries, f)
    return os.path.join(root, "tr.json")


def _tone(wav):
    """The entry a mixture was cropped from, by its spectrum's peak."""
    return int(round(np.argmax(np.abs(np.fft.rfft(wav))) * RATE / len(wav) / 200)) - 1


def _level_db(a, b):
    return 20 * np.log10(np.sqrt(np.mean(b**2)) / np.sqrt(np.mean(a**2)))


def test_pairs_of_other_entries_at_spread_relative_levels(tmp_path):
    data = MixturesOfMixturesDataset(_manifest(tmp_path), SEGMENT, gain_db=(-6.0, 3.0))
    levels, partners = [], set()
    for epoch in range(20):
        for index in range(len(data)):
            mom, mixtures = data[index]
            assert mom.shape == (SEGMENT,) and mixtures.shape == (2, SEGMENT)
            torch.testing.assert_close(mom, mixtures.sum(0))
            first, second = mixtures.numpy()
            assert _tone(first) == index and _tone(second) != index
            partners.add((index, _tone(second)))
            levels.append(_level_db(first, second))
    assert min(levels) >= -6.0 - 0.05 and max(levels) <= 3.0 + 0.05
    assert min(levels) < -5.0 and max(levels) > 2.0 and np.std(levels) > 2.0  # spread over the range
    assert len(partners) == 6 * 5  # every other entry drawn as a partner


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_the_share_of_less_crowded_mixtures_of_mixtures(tmp_path, share):
    data = MixturesOfMixturesDataset(_manifest(tmp_path), SEGMENT, less_crowded_share=share)
    draws = [data[i % len(data)] for i in range(600)]
    silent = [float(mixtures[1].abs().max()) == 0.0 for _, mixtures in draws]
    assert abs(np.mean(silent) - share) < 0.06  # 3.2 standard deviations of 600 draws at 0.3
    for (mom, mixtures), quiet in zip(draws, silent):
        if quiet:
            torch.testing.assert_close(mom, mixtures[0])


def test_validation_draws_the_same_mixtures_every_epoch_and_training_new_ones(tmp_path):
    manifest = _manifest(tmp_path)
    fixed = MixturesOfMixturesDataset(manifest, SEGMENT, less_crowded_share=0.2, fixed=True)
    again = MixturesOfMixturesDataset(manifest, SEGMENT, less_crowded_share=0.2, fixed=True)
    for i in range(len(fixed)):
        torch.testing.assert_close(fixed[i][1], fixed[i][1])
        torch.testing.assert_close(fixed[i][1], again[i][1])
    train = MixturesOfMixturesDataset(manifest, SEGMENT)
    assert not all(torch.equal(train[i][1], train[i][1]) for i in range(len(train)))


@pytest.mark.parametrize("options,match", [
    (dict(gain_db=(3.0, -3.0)), r"mixit_gain_db=\[3.0, -3.0\]: give \[low, high\]"),
    (dict(less_crowded_share=1.0), "mixit_less_crowded_share=1.0: give a share"),
])
def test_bad_options_are_named(tmp_path, options, match):
    with pytest.raises(ValueError, match=match):
        MixturesOfMixturesDataset(_manifest(tmp_path), SEGMENT, **options)


def test_one_mixture_cannot_make_mixtures_of_mixtures(tmp_path):
    with pytest.raises(ValueError, match="lists 1 mixture; mixtures of mixtures need at least 2"):
        MixturesOfMixturesDataset(_manifest(tmp_path, n=1), SEGMENT)
