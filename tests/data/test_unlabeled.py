"""Stage 0 of the MixIT recipe: a folder of odd recordings becomes segments at the experiment's rate,
near-silent parts dropped, validation held out by recording, bad files named and skipped, and clear
errors for a folder that cannot train; the folder it writes is never one it did not make."""
import json
import os

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask.data import write_unlabeled_manifests
from asteroid_deepmask.data.unlabeled import cut_segments

RATE, SEGMENT = 8000, 0.5


def _noise(rng, seconds, rate):
    return (0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32)


def _odd_folder(root):
    """Recordings of every kind stage 0 meets; returns ``{name: seconds}`` of the usable ones."""
    rng = np.random.default_rng(0)
    os.makedirs(root / "nested" / "deeper")
    sf.write(root / "mono_16k.wav", _noise(rng, 2.0, 16000), 16000)
    sf.write(root / "stereo_44k.flac", np.stack([_noise(rng, 1.5, 44100), _noise(rng, 1.5, 44100)], 1), 44100)
    sf.write(root / "nested" / "deeper" / "inner.ogg", _noise(rng, 1.0, 8000), 8000)
    sf.write(root / "short.wav", _noise(rng, 0.1, 8000), 8000)
    (root / "notes.wav").write_text("a text file with an audio name")
    (root / "readme.txt").write_text("not audio at all")
    return {"mono_16k.wav": 2.0, "stereo_44k.flac": 1.5, os.path.join("nested", "deeper", "inner.ogg"): 1.0}


def _read(out, split):
    with open(out / f"{split}.json") as f:
        return json.load(f)


def test_odd_files_become_segments_at_the_experiment_rate(tmp_path):
    usable = _odd_folder(tmp_path / "audio")
    lines = []
    info = write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "out"), RATE, SEGMENT, valid_share=0.3,
                                     log=lines.append)
    entries = _read(tmp_path / "out", "tr") + _read(tmp_path / "out", "cv")
    assert {e["recording"] for e in entries} == set(usable)  # stereo, 44.1 kHz and nested ones read; short one not
    for name, seconds in usable.items():
        assert sum(e["recording"] == name for e in entries) == int(seconds / SEGMENT)
    for entry in entries:
        assert "sources" not in entry
        wav, rate = sf.read(entry["mix"])
        assert rate == RATE and wav.ndim == 1 and len(wav) == entry["samples"] == int(SEGMENT * RATE)
    assert any("notes.wav" in line and line.startswith("skipped") for line in lines)
    assert "skipped 1 of 5 files" in "\n".join(lines)
    assert info["skipped_files"] == 1 and info["silent_or_short_recordings"] == 1


def test_a_chosen_channel_is_read_instead_of_the_average(tmp_path):
    rng = np.random.default_rng(1)
    os.makedirs(tmp_path / "audio")
    left, right = _noise(rng, 1.0, RATE), np.zeros(RATE, np.float32)
    for i in range(3):
        sf.write(tmp_path / "audio" / f"r{i}.wav", np.stack([left, right], 1), RATE)
    write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "left"), RATE, SEGMENT, channel=0, log=print)
    write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "mean"), RATE, SEGMENT, log=print)
    first = [sf.read(_read(tmp_path / d, "tr")[0]["mix"])[0] for d in ("left", "mean")]
    np.testing.assert_allclose(first[0], left[:4000], atol=1e-4)  # 16-bit files
    np.testing.assert_allclose(first[1], left[:4000] / 2, atol=1e-4)


def test_near_silent_segments_are_dropped():
    wav = np.concatenate([np.ones(100), 1e-3 * np.ones(100), np.zeros(100), 0.1 * np.ones(100), np.ones(40)])
    # -60 dB and silence dropped, -20 dB kept, the last 40 samples too short (< half a segment)
    assert cut_segments(wav, 100, silence_db=-40.0) == [(0, 100), (300, 100)]
    assert cut_segments(np.zeros(500), 100, silence_db=-40.0) == []


def test_validation_is_held_out_by_recording(tmp_path):
    rng = np.random.default_rng(2)
    os.makedirs(tmp_path / "audio")
    for i in range(10):
        sf.write(tmp_path / "audio" / f"rec{i}.wav", _noise(rng, 1.0 + i % 3, RATE), RATE)
    write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "out"), RATE, SEGMENT, valid_share=0.2,
                              seed=3, log=print)
    train, valid = ({e["recording"] for e in _read(tmp_path / "out", s)} for s in ("tr", "cv"))
    assert len(valid) == 2 and len(train) == 8 and not train & valid
    assert len(_read(tmp_path / "out", "tr")) + len(_read(tmp_path / "out", "cv")) == sum(
        2 * (1 + i % 3) for i in range(10))


def test_a_second_run_keeps_the_folder_and_a_foreign_folder_is_refused(tmp_path):
    _odd_folder(tmp_path / "audio")
    write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "out"), RATE, SEGMENT, log=print)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")}
    lines = []
    write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "out"), RATE, SEGMENT, log=lines.append)
    assert "nothing to do" in lines[0] and before == {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")}
    with pytest.raises(ValueError, match="other settings"):
        write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "out"), 16000, SEGMENT, log=print)
    os.makedirs(tmp_path / "theirs")
    (tmp_path / "theirs" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="refusing to write into it"):
        write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "theirs"), RATE, SEGMENT, log=print)
    assert os.listdir(tmp_path / "theirs") == ["keep.txt"]


@pytest.mark.parametrize("make,match", [
    (lambda root: None, "holds no audio file"),
    (lambda root: (root / "a.wav").write_text("text"), "No usable audio.*1 unreadable files"),
    (lambda root: [sf.write(root / f"{i}.wav", np.ones(RATE // 2, np.float32), RATE) for i in range(2)],
     "too short to train: 1 training segment"),
    (lambda root: sf.write(root / "one.wav", np.ones(4 * RATE, np.float32), RATE), "at least 2 are needed"),
])
def test_folders_that_cannot_train_are_clear_errors(tmp_path, make, match):
    os.makedirs(tmp_path / "audio")
    make(tmp_path / "audio")
    with pytest.raises(ValueError, match=match):
        write_unlabeled_manifests(str(tmp_path / "audio"), str(tmp_path / "out"), RATE, SEGMENT, log=print)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        write_unlabeled_manifests(str(tmp_path / "none"), str(tmp_path / "out"), RATE, SEGMENT)
