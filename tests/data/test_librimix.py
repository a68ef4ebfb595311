"""LibriMix generation on a stand-in LibriSpeech / WHAM! tree with official-style metadata (tests/conftest.py)."""
import csv
import json
import os

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from asteroid_deepmask.data import write_manifests
from asteroid_deepmask.data.librimix import check_librimix_inputs, corpus_plan, generate_librimix
from asteroid_deepmask.data.librimix.metadata import download_metadata, find_metadata, read_metadata
from asteroid_deepmask.data.librimix.mixing import loop_noise, read_noise, speed_perturb

DATA = {"dataset": "librimix", "task": "sep_clean", "n_src": 2, "sample_rate": 8000, "mode": "min",
        "train_set": "train-360"}
ALL = dict(sample_rates=[8000], modes=["min", "max"], types=["mix_clean", "mix_both", "mix_single"])


@pytest.fixture(scope="module")
def librimix(fake_librimix_inputs, tmp_path_factory):
    root = tmp_path_factory.mktemp("librimix")
    inputs = fake_librimix_inputs(root / "in")
    out = root / "Libri2Mix"
    generate_librimix(inputs["librispeech"], inputs["wham_noise"], out, corpus_plan(DATA, **ALL), inputs["metadata"])
    return inputs, out


def _rows(inputs, full_subset):
    return read_metadata(os.path.join(inputs["metadata"], "Libri2Mix", f"libri2mix_{full_subset}.csv"), 2)


def _read(out, mode, subset, folder, row):
    return sf.read(out / "wav8k" / mode / subset / folder / f"{row['id']}.wav")[0]


def test_a_mixture_is_the_sum_of_its_gained_resampled_sources(librimix):
    inputs, out = librimix
    row = _rows(inputs, "dev-clean")[0]
    utterances = [sf.read(os.path.join(inputs["librispeech"], p))[0] for p in row["sources"]]
    noise = sf.read(os.path.join(inputs["wham_noise"], row["noise"]))[0][: max(map(len, utterances)), 0]
    expected = [resample_poly(x * g, 1, 2) for x, g in zip([*utterances, noise], [*row["gains"], row["noise_gain"]])]
    length = min(map(len, expected))
    s1, s2, n = (e[:length] for e in expected)
    for name, want in {"s1": s1, "s2": s2, "noise": n, "mix_clean": s1 + s2, "mix_both": s1 + s2 + n,
                       "mix_single": s1 + n}.items():
        written = _read(out, "min", "dev", name, row)
        assert len(written) == length and np.abs(written - want).max() < 1e-4, name
    assert np.abs(s1).max() > 0.01 and np.abs(n).max() > 0.01  # the comparison above is not between silences
    assert sf.info(out / "wav8k" / "min" / "dev" / "mix_both" / f"{row['id']}.wav").subtype == "PCM_16"


def test_min_cuts_to_the_shortest_utterance_and_max_pads_to_the_longest(librimix):
    inputs, out = librimix
    row = _rows(inputs, "test-clean")[0]
    lengths = [(sf.info(os.path.join(inputs["librispeech"], p)).frames + 1) // 2 for p in row["sources"]]
    assert {len(_read(out, "min", "test", k, row)) for k in ("s1", "s2", "noise", "mix_both")} == {min(lengths)}
    padded = [_read(out, "max", "test", k, row) for k in ("s1", "s2")]
    assert {len(p) for p in padded} == {max(lengths)}
    shorter = padded[int(np.argmin(lengths))]
    assert not shorter[min(lengths):].any() and shorter[min(lengths) - 100: min(lengths)].any()
    listed = list(csv.DictReader(open(out / "wav8k" / "max" / "metadata" / "mixture_test_mix_both.csv")))
    assert [(r["mixture_ID"], int(r["length"])) for r in listed] == [(row["id"], max(lengths))]
    assert listed[0]["noise_path"] == str(out / "wav8k" / "max" / "test" / "noise" / f"{row['id']}.wav")


def test_a_short_noise_is_looped_over_the_longest_utterance(librimix):
    inputs, out = librimix
    row = _rows(inputs, "train-clean-360")[0]  # a 0.55 s noise under longer utterances
    noise = _read(out, "max", "train-360", "noise", row)
    assert len(noise) > 0.55 * 8000 + 400 and np.sqrt(np.mean(noise[-800:] ** 2)) > 0.005
    # the crossfade keeps a constant level: its rising and falling halves of a Hann window sum to one
    looped = loop_noise(np.ones(100), 250, crossfade=20)
    assert len(looped) == 250 and np.allclose(looped, 1.0)
    with pytest.raises(ValueError, match="too short"):
        loop_noise(np.ones(21), 100, crossfade=20)


def test_speed_perturbed_noise_is_made_from_the_original_unless_the_official_file_is_there(librimix, tmp_path):
    inputs, _ = librimix
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 500 * t)
    for factor in (0.8, 1.2):
        slow = speed_perturb(tone, factor)
        assert len(slow) == int(np.ceil(16000 / factor))
        assert np.argmax(np.abs(np.fft.rfft(slow))) * 16000 / len(slow) == pytest.approx(500 * factor, abs=2)
    row = _rows(inputs, "train-clean-360")[2]
    assert row["noise"].endswith("sp08.wav") and not os.path.exists(os.path.join(inputs["wham_noise"], row["noise"]))
    original = sf.read(os.path.join(inputs["wham_noise"], row["noise"].replace("sp08", "")))[0][:, 0]
    made = read_noise(inputs["wham_noise"], row["noise"], 16000)
    assert len(made) == 16000 and np.abs(made - speed_perturb(original, 0.8)[:16000]).max() < 1e-4
    official = tmp_path / row["noise"]  # a file made by the official augment_train_noise.py is read as it is
    official.parent.mkdir(parents=True)
    sf.write(official, np.full(20000, 0.25), 16000)
    assert np.allclose(read_noise(tmp_path, row["noise"], 16000), 0.25, atol=1e-4)
    with pytest.raises(FileNotFoundError, match="--wham-noise"):
        read_noise(tmp_path, "tr/missingsp12.wav", 100)


def test_a_second_run_changes_nothing_and_an_interrupted_one_resumes(librimix):
    inputs, out = librimix
    files = sorted(p for p in out.rglob("*") if p.is_file())
    before = {p: p.stat().st_mtime_ns for p in files}
    plan = corpus_plan(DATA, **ALL)
    generate_librimix(inputs["librispeech"], inputs["wham_noise"], out, plan, inputs["metadata"])
    assert {p: p.stat().st_mtime_ns for p in files} == before
    lost = out / "wav8k" / "max" / "train-360" / "s2" / f"{_rows(inputs, 'train-clean-360')[1]['id']}.wav"
    listing = out / "wav8k" / "max" / "metadata" / "mixture_train-360_mix_clean.csv"
    lost.unlink()  # as if killed while writing that subset
    listing.unlink()
    generate_librimix(inputs["librispeech"], inputs["wham_noise"], out, plan, inputs["metadata"], jobs=2)
    assert lost.exists() and listing.exists()
    rewritten = [p for p in files if p.stat().st_mtime_ns != before[p]]
    assert rewritten == sorted([lost, listing, out / "librimix.json"])  # and the marker, finished again


def test_other_folders_are_refused_before_anything_is_written(fake_librimix_inputs, tmp_path):
    inputs = fake_librimix_inputs(tmp_path / "in")
    plan = corpus_plan(DATA, subsets=["dev"])
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    with pytest.raises(ValueError, match="holds no librimix.json"):
        generate_librimix(inputs["librispeech"], inputs["wham_noise"], foreign, plan, inputs["metadata"])
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    with pytest.raises(ValueError, match="another corpus than Libri2Mix"):
        generate_librimix(inputs["librispeech"], inputs["wham_noise"], tmp_path / "Libri3Mix", plan, inputs["metadata"])
    assert not (tmp_path / "Libri3Mix").exists()


def test_missing_paths_name_the_option_that_sets_them(fake_librimix_inputs, tmp_path):
    inputs = fake_librimix_inputs(tmp_path / "in")
    with pytest.raises(FileNotFoundError, match="--librispeech '/nonexistent' is not a folder"):
        check_librimix_inputs("/nonexistent", inputs["wham_noise"], ["dev"])
    os.rename(os.path.join(inputs["wham_noise"], "tt"), tmp_path / "tt")
    with pytest.raises(FileNotFoundError, match="tt.*--wham-noise"):
        check_librimix_inputs(inputs["librispeech"], inputs["wham_noise"], ["dev", "test"])
    with pytest.raises(FileNotFoundError, match="--librimix-metadata .*libri3mix_dev-clean.csv"):
        find_metadata(inputs["metadata"], 3, ["dev"])
    url = (tmp_path / "nowhere").as_uri()
    with pytest.raises(FileNotFoundError, match=f"{url}/Libri2Mix/libri2mix_dev-clean.csv.*--librimix-metadata"):
        download_metadata(tmp_path / "meta", 2, ["dev"], url)
    with pytest.raises(ValueError, match="not those of the Libri3Mix metadata"):
        read_metadata(os.path.join(inputs["metadata"], "Libri2Mix", "libri2mix_dev-clean.csv"), 3)
    with pytest.raises(ValueError, match="data.task='sep'"):
        corpus_plan({**DATA, "task": "sep"})


@pytest.mark.parametrize("task, mixture, targets", [
    ("sep_clean", "mix_clean", ["s1", "s2"]), ("sep_noisy", "mix_both", ["s1", "s2"]),
    ("enh_single", "mix_single", ["s1"]), ("enh_both", "mix_both", ["mix_clean"]),
])
def test_manifests_of_every_task(librimix, tmp_path, task, mixture, targets):
    _, out = librimix
    write_manifests(out, tmp_path, {**DATA, "task": task, "mode": "max"})
    for split, folder, count in (("tr", "train-360", 3), ("cv", "dev", 1), ("tt", "test", 1)):
        entries = json.loads((tmp_path / f"{split}.json").read_text())
        assert len(entries) == count
        assert entries[0]["mix"] == str(out / "wav8k" / "max" / folder / mixture / f"{entries[0]['id']}.wav")
        assert [os.path.basename(os.path.dirname(s)) for s in entries[0]["sources"]] == targets
    assert json.loads((tmp_path / "info.json").read_text())["splits"]["tr"] == "train-360"


def test_manifests_name_a_missing_train_set_and_refuse_a_wrong_speaker_count(librimix, tmp_path):
    _, out = librimix
    with pytest.raises(FileNotFoundError, match=r"wav8k/min/\{train-100,dev,test\}/mix_clean"):
        write_manifests(out, tmp_path / "a", {**DATA, "train_set": "train-100"})
    with pytest.raises(ValueError, match=r"holds 2 sources per mixture \(s1, s2\) but the experiment has data.n_src=1"):
        write_manifests(out, tmp_path / "b", {**DATA, "n_src": 1})


def test_libri3mix_mixes_three_speakers(fake_librimix_inputs, tmp_path):
    inputs = fake_librimix_inputs(tmp_path / "in", n_src=3)
    out = tmp_path / "Libri3Mix"
    plan = corpus_plan({**DATA, "n_src": 3, "sample_rate": 16000}, subsets=["dev"])
    generate_librimix(inputs["librispeech"], inputs["wham_noise"], out, plan, inputs["metadata"])
    split = out / "wav16k" / "min" / "dev"
    name = os.listdir(split / "mix_clean")[0]
    s1, s2, s3, mix = (sf.read(split / k / name)[0] for k in ("s1", "s2", "s3", "mix_clean"))
    assert np.abs(mix - s1 - s2 - s3).max() < 1e-4 and not (split / "noise").exists()  # no noise for mix_clean only
