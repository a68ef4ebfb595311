import os

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask.data.mini2mix import make_mini2mix
from asteroid_deepmask.data.mini2mix.synthetic_speech import make_speakers, synthesise


def test_speakers_are_distinct_and_speak():
    speakers = make_speakers(16)
    assert len({s.name for s in speakers}) == 16 and len({s.variant for s in speakers}) >= 12
    wav, rate = synthesise("one two three", speakers[0])
    assert rate == 22050 and 0.3 < len(wav) / rate < 3 and np.abs(wav).max() > 0.1
    other, _ = synthesise("one two three", speakers[7])
    assert len(other) != len(wav) or not np.allclose(other, wav)


SYNTHESISE_ALL = """
import hashlib
from asteroid_deepmask.data.mini2mix.synthetic_speech import make_speakers, synthesise
for s in make_speakers(16):
    print(s.name, hashlib.md5(synthesise("seven green islands", s)[0].tobytes()).hexdigest())
"""


def test_every_voice_speaks_the_same_in_every_run():
    import subprocess
    import sys

    runs = [subprocess.run([sys.executable, "-c", SYNTHESISE_ALL], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 16


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini2mix") / "corpus"
    make_mini2mix(root, n_mixtures=(4, 1, 3), min_seconds=0.5)
    return root


def test_layout_levels_and_mixtures(corpus):
    for split, count in (("tr", 4), ("cv", 1), ("tt", 3)):
        names = sorted(os.listdir(corpus / "wav8k" / "min" / split / "mix"))
        assert len(names) == count
        for name in names:
            mix, rate = sf.read(corpus / "wav8k" / "min" / split / "mix" / name)
            s1, _ = sf.read(corpus / "wav8k" / "min" / split / "s1" / name)
            s2, _ = sf.read(corpus / "wav8k" / "min" / split / "s2" / name)
            assert rate == 8000 and len(mix) == len(s1) == len(s2) >= 4000
            np.testing.assert_allclose(mix, s1 + s2, atol=1e-6)
            level = 10 * np.log10(np.mean(s1**2) / np.mean(s2**2))
            assert -5.01 <= level <= 5.01 and np.abs(mix).max() <= 0.9 + 1e-6
            assert level == pytest.approx(float(name.split("_")[2]), abs=0.01)


def test_test_speakers_are_unseen(corpus):
    def speakers(split):
        names = os.listdir(corpus / "wav8k" / "min" / split / "mix")
        return {part for n in names for part in (n.split("_")[1], n.split("_")[3])}

    assert speakers("tt") and not speakers("tt") & (speakers("tr") | speakers("cv"))


def test_rerun_changes_nothing_and_foreign_folders_are_left_alone(corpus, tmp_path):
    before = {p: os.stat(p).st_mtime_ns for p in corpus.rglob("*.wav")}
    make_mini2mix(corpus, n_mixtures=(4, 1, 3), min_seconds=0.5)
    assert {p: os.stat(p).st_mtime_ns for p in corpus.rglob("*.wav")} == before
    with pytest.raises(ValueError, match="made with other settings"):
        make_mini2mix(corpus, n_mixtures=(5, 1, 3), min_seconds=0.5)
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(ValueError, match="not empty and holds no mini2mix.json"):
        make_mini2mix(tmp_path, n_mixtures=(1, 1, 1))
    assert (tmp_path / "mine.txt").read_text() == "user data"
    with pytest.raises(ValueError, match="at least 12 voices"):
        make_mini2mix(tmp_path / "new", n_speakers=8)
