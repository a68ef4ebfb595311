"""WHAMR! made in this environment, against what the official scripts wrote (tests/fixtures/whamr/)."""
import csv
import hashlib
import json
import os
import pickle
import shutil

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask.data.whamr import mixing as whamr_mixing
from asteroid_deepmask.data.whamr.metadata import load_npz, room_geometry
from asteroid_deepmask.data.whamr.mixing import FOLDERS, make_whamr_corpus
from asteroid_deepmask.data.whamr.room import whamr_rirs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "whamr")
INPUTS = {k: os.path.join(FIXTURE, "inputs", d) for k, d in
          (("wsj0", "wsj0"), ("wham_noise", "wham_noise"), ("scripts", "whamr_metadata"))}
MIN_SI_SDR = 40.0  # dB, on every file and response that is not sample-exact


def si_sdr(reference, estimate):
    reference, estimate = np.asarray(reference, float), np.asarray(estimate, float)
    target = (estimate @ reference) / (reference @ reference) * reference
    return 10 * np.log10((target @ target) / ((estimate - target) @ (estimate - target)))


def sample_hash(samples):  # as tests/fixtures/whamr/make_fixture.py hashes the official files
    return hashlib.sha256(np.ascontiguousarray(samples, dtype="<f4").tobytes()).hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The fixture's corpus made by the recipe step of stage 0 (no --python: in this environment alone), by two
    processes."""
    from asteroid_deepmask.recipe.steps import main

    out = tmp_path_factory.mktemp("whamr") / "corpus"
    assert main(["whamr", "--wsj0", INPUTS["wsj0"], "--wham-noise", INPUTS["wham_noise"],
                 "--scripts", INPUTS["scripts"], "--out", str(out), "--jobs", "2",
                 "--sample-rates", "8000", "16000", "--modes", "min", "max"]) == 0
    return out


def test_every_file_of_the_official_scripts_is_made_alike(corpus):
    official = load_npz(os.path.join(FIXTURE, "official.npz"))
    with open(os.path.join(FIXTURE, "hashes.json")) as f:
        hashes = json.load(f)
    ours = {os.path.relpath(os.path.join(here, n), corpus) for here, _, names in os.walk(corpus) for n in names}
    assert ours - {"whamr.json"} == set(hashes) == set(official)
    exact, worst = set(), np.inf
    for key, reference in official.items():
        samples, rate = sf.read(os.path.join(corpus, key), dtype="float32")
        assert rate == int(key[3:key.index("k/")]) * 1000 and samples.shape == reference.shape, key
        if sample_hash(samples) == hashes[key]:
            exact.add(key)
        else:
            worst = min(worst, si_sdr(reference, samples))
    # The noise does not go through the room: sample-exact; the rest within the float32 of today's RIRs.
    assert {k for k in official if "/noise/" in k} <= exact
    assert worst >= MIN_SI_SDR


def test_impulse_responses_match_the_official_room_code():
    official = load_npz(os.path.join(FIXTURE, "rirs.npz"))
    checked = 0
    for split in ("tr", "cv", "tt"):
        with open(os.path.join(INPUTS["scripts"], "data", f"reverb_params_{split}.csv"), newline="") as f:
            for row in csv.DictReader(f):
                for kind, responses in zip(("anechoic", "reverberant"), whamr_rirs(*room_geometry(row))):
                    for s, ours in enumerate(responses):
                        reference = official[f"{split}/{row['utterance_id']}/{kind}/s{s + 1}"]
                        if kind == "reverberant":  # cut to T60, as the official room cuts them
                            assert ours.shape == reference.shape
                        n = max(ours.shape[1], reference.shape[1])  # anechoic: zeros after the direct path
                        for ref_mic, our_mic in zip(np.pad(reference, ((0, 0), (0, n - reference.shape[1]))),
                                                    np.pad(ours, ((0, 0), (0, n - ours.shape[1])))):
                            assert si_sdr(ref_mic, our_mic) >= MIN_SI_SDR
                            checked += 1
    assert checked == 4 * 2 * 2 * 2  # mixtures x kinds x sources x microphones


def test_an_interrupted_corpus_resumes_and_a_finished_one_is_left_alone(tmp_path, monkeypatch):
    out = tmp_path / "corpus"
    real, calls, kill_at = whamr_mixing.mixture_signals, [], [2]

    class Killed(Exception):
        pass

    def fails_on_the_second(*args, **kwargs):
        calls.append(args[1])
        if len(calls) in kill_at:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(whamr_mixing, "mixture_signals", fails_on_the_second)
    settings = dict(sample_rates=(8000,), modes=("min",), limit=1)
    with pytest.raises(Killed):
        make_whamr_corpus(*INPUTS.values(), out, **settings)
    first = out / "wav8k" / "min" / "tr" / "s1_reverb"
    (written,) = first.iterdir()
    mtime = written.stat().st_mtime_ns
    assert json.loads((out / "whamr.json").read_text())["complete"] is False
    calls.clear()
    kill_at.clear()
    assert make_whamr_corpus(*INPUTS.values(), out, **settings) == {"tr": 1, "cv": 1, "tt": 1}
    assert len(calls) == 2 and written.stat().st_mtime_ns == mtime  # tr was done: only cv and tt made
    assert all(len(os.listdir(out / "wav8k" / "min" / s / f)) == 1 for s in ("tr", "cv", "tt") for f in FOLDERS)
    assert json.loads((out / "whamr.json").read_text())["complete"] is True
    calls.clear()
    make_whamr_corpus(*INPUTS.values(), out, **settings)
    assert calls == []
    with pytest.raises(ValueError, match="other settings"):
        make_whamr_corpus(*INPUTS.values(), out, sample_rates=(16000,), modes=("min",), limit=1)
    with pytest.raises(ValueError, match="not empty"):
        make_whamr_corpus(*INPUTS.values(), first, **settings)


def test_missing_metadata_is_named_with_the_fix(tmp_path):
    wsj0, noise, scripts = INPUTS.values()
    with pytest.raises(FileNotFoundError, match="--scripts .* is not a folder: pass the unpacked whamr_scripts"):
        make_whamr_corpus(wsj0, noise, str(tmp_path / "nowhere"), tmp_path / "a")
    partial = tmp_path / "scripts"
    shutil.copytree(scripts, partial)
    os.remove(partial / "data" / "reverb_params_cv.csv")
    with pytest.raises(FileNotFoundError, match="lacks the WHAMR! metadata reverb_params_cv.csv"):
        make_whamr_corpus(wsj0, noise, str(partial), tmp_path / "b")
    bare_noise = tmp_path / "wham_noise"
    for split in ("tr", "cv", "tt"):
        (bare_noise / split).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="scaling_tr.npz is missing: --wham-noise must be"):
        make_whamr_corpus(wsj0, str(bare_noise), scripts, tmp_path / "c")
    assert not any((tmp_path / n).exists() for n in "abc")  # nothing claimed before the inputs are checked


def test_npz_metadata_is_read_without_unpickling_objects(tmp_path):
    # tr's names are an object array pickled by numpy 1.19 (the fixture's official environment).
    names = load_npz(os.path.join(INPUTS["wham_noise"], "metadata", "scaling_tr.npz"))["utterance_id"]
    assert names.dtype == object and all(isinstance(n, str) and n.endswith(".wav") for n in names)

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    np.savez(tmp_path / "evil.npz", utterance_id=np.array([Payload()], dtype=object))
    with pytest.raises(pickle.UnpicklingError, match="posix.system in an .npz file"):
        load_npz(tmp_path / "evil.npz")
