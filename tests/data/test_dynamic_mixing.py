"""Dynamic mixing: distinct speakers per example, mixture = sum of its sources (+ noise), new mixtures
every epoch, the same ones from the same seed, speed perturbation, and the speakers of each corpus's ids."""
import json
import os

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask.data import DynamicMixingDataset
from asteroid_deepmask.data.dynamic_mixing import SPEAKER_PARSERS

RATE, SEGMENT = 8000, 800
#: Each fake speaker is a pure tone: the spectrum peak of a returned source says whose it is.
TONES = {"a01": 300.0, "b02": 700.0, "c03": 1100.0, "d04": 1500.0}


def _manifest(root, noisy=False, n_mixtures=6):
    """A wsj0-2mix-like training manifest: mixture ``i`` pairs speakers ``i`` and ``i + 1`` (of 4)."""
    rng, entries, speakers = np.random.default_rng(0), [], sorted(TONES)
    t = np.arange(RATE) / RATE  # 1 s files
    folders = ["mix_both" if noisy else "mix", "s1", "s2", *(["noise"] if noisy else [])]
    for folder in folders:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    for i in range(n_mixtures):
        pair = speakers[i % 4], speakers[(i + 1) % 4]
        name = f"{pair[0]}0{i}0a_1.0_{pair[1]}0{i}0b_-1.0.wav"
        sources = [0.3 * np.sin(2 * np.pi * TONES[s] * t + rng.uniform(0, 6)) for s in pair]
        waves = dict(zip(folders, [sum(sources), *sources, *([0.1 * rng.standard_normal(RATE)] if noisy else [])]))
        for folder, wav in waves.items():
            sf.write(os.path.join(root, folder, name), wav.astype(np.float32), RATE, subtype="FLOAT")
        entries.append({"id": name[:-4], "mix": os.path.join(root, folders[0], name),
                        "sources": [os.path.join(root, f"s{k}", name) for k in (1, 2)], "samples": RATE})
    path = os.path.join(root, "tr.json")
    with open(path, "w") as f:
        json.dump(entries, f)
    return path


def _speaker(source, speed=1.0):
    peak = np.fft.rfftfreq(len(source), 1 / RATE)[np.abs(np.fft.rfft(source.numpy())).argmax()]
    return min(TONES, key=lambda s: abs(TONES[s] * speed - peak)), peak


def test_examples_mix_distinct_speakers_into_their_sum(tmp_path):
    data = DynamicMixingDataset(_manifest(str(tmp_path)), "wsj0-2mix", SEGMENT)
    pairs = set()
    for i in range(3 * len(data)):  # three epochs
        mix, sources = data[i % len(data)]
        assert mix.shape == (SEGMENT,) and sources.shape == (2, SEGMENT)
        np.testing.assert_allclose(mix.numpy(), sources.sum(0).numpy(), atol=1e-6)
        assert max(mix.abs().max(), sources.abs().max()) == pytest.approx(0.9)
        speakers = [_speaker(s)[0] for s in sources]
        assert speakers[0] != speakers[1]
        pairs.add(frozenset(speakers))
    assert {frozenset(("a01", "c03")), frozenset(("b02", "d04"))} & pairs  # the manifest pairs neighbours only


def test_every_epoch_remixes_and_a_seed_repeats_them(tmp_path):
    manifest = _manifest(str(tmp_path))
    data = DynamicMixingDataset(manifest, "wsj0-2mix", SEGMENT, seed=3)
    first, second = ([data[i][0] for i in range(len(data))] for _ in range(2))
    again = DynamicMixingDataset(manifest, "wsj0-2mix", SEGMENT, seed=3)
    assert all(not np.allclose(a, b) for a, b in zip(first, second))
    assert all(np.array_equal(a, again[i][0]) for i, a in enumerate(first))


def test_noisy_corpora_add_the_sibling_noise_at_a_drawn_snr(tmp_path):
    data = DynamicMixingDataset(_manifest(str(tmp_path), noisy=True), "whamr", SEGMENT, noise_snr_db=(-2, 1))
    snrs = []
    for i in range(len(data)):
        mix, sources = data[i]
        speech, noise = sources.sum(0), mix - sources.sum(0)
        snrs.append(10 * np.log10((speech**2).sum() / (noise**2).sum()))
    assert all(-2 - 0.01 < snr < 1 + 0.01 for snr in snrs) and np.ptp(snrs) > 0.5
    os.remove(tmp_path / "noise" / os.listdir(tmp_path / "noise")[0])
    with pytest.raises(FileNotFoundError, match="noise"):
        DynamicMixingDataset(str(tmp_path / "tr.json"), "whamr", SEGMENT)


def test_speed_perturbation_resamples_each_source(tmp_path):
    data = DynamicMixingDataset(_manifest(str(tmp_path)), "wsj0-2mix", SEGMENT, speeds=[1.25])
    mix, sources = data[0]
    assert sources.shape == (2, SEGMENT)
    for source in sources:
        speaker, peak = _speaker(source, speed=1.25)
        assert peak == pytest.approx(TONES[speaker] * 1.25, abs=15)  # 10 Hz bins


def test_a_speed_that_rounds_to_one_reads_the_segment_as_it_is(tmp_path):
    """1.004 has no resampler (its ratio rounds to 1): its crop is the segment, not ceil(1.004 x segment)."""
    data = DynamicMixingDataset(_manifest(str(tmp_path)), "wsj0-2mix", SEGMENT, speeds=[1.0, 1.004])
    assert 1.004 not in data.resamplers
    for index in range(6):  # both speeds drawn, in any pair
        mix, sources = data[index]
        assert sources.shape == (2, SEGMENT) and mix.shape == (SEGMENT,)


@pytest.mark.parametrize("dataset,mixture_id,speakers", [
    ("wsj0-2mix", "011a0101_1.0_401o030i_-1.0", ["011", "401"]),
    ("wsj0-3mix", "011a0101_1.2_401o030i_-0.3_22ga010c_0", ["011", "401", "22g"]),
    ("librimix", "19-198-0001_26-495-0009", ["19", "26"]),
    ("mini2mix", "00000_klatt2-p46-r141_-4.66_f4-p67-r145_4.66", ["klatt2-p46-r141", "f4-p67-r145"]),
])
def test_speakers_of_each_corpus_ids(dataset, mixture_id, speakers):
    assert SPEAKER_PARSERS[dataset](mixture_id) == speakers


def test_bad_manifests_and_options(tmp_path):
    manifest = _manifest(str(tmp_path), n_mixtures=2)
    with pytest.raises(ValueError, match="data.dataset='mystery'.*\"speakers\""):
        DynamicMixingDataset(manifest, "mystery", SEGMENT)
    with pytest.raises(ValueError, match="dynamic_mixing_gain_db"):
        DynamicMixingDataset(manifest, "wsj0-2mix", SEGMENT, gain_db=(3, -3))
    with pytest.raises(ValueError, match="dynamic_mixing_speeds.*positive"):
        DynamicMixingDataset(manifest, "wsj0-2mix", SEGMENT, speeds=[1.0, 0])

    def rewrite(change):
        with open(manifest) as f:
            entries = json.load(f)
        for entry in entries:
            change(entry)
        with open(manifest, "w") as f:
            json.dump(entries, f)

    rewrite(lambda entry: entry.update(speakers=["x", "y"]))  # an entry's own list wins over the parser
    assert DynamicMixingDataset(manifest, "mystery", SEGMENT).speakers == ["x", "y"]
    rewrite(lambda entry: entry.update(speakers=["x", "x"]))
    with pytest.raises(ValueError, match="1 speakers.*at least 2"):
        DynamicMixingDataset(manifest, "mystery", SEGMENT)
    rewrite(lambda entry: (entry.pop("speakers"), entry["sources"].pop()))  # enhancement: 1 target, 2 speakers
    with pytest.raises(ValueError, match="1 sources but names 2 speakers.*one speaker per source"):
        DynamicMixingDataset(manifest, "wsj0-2mix", SEGMENT)
