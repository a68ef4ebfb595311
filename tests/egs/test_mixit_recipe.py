"""egs/mixit/run.sh end to end on a tiny folder of synthesised speech: segments, MixIT training from
the recordings alone, the hub folder; the manifests of a labelled corpus (semi-supervised) and of a
labelled test folder (scores with references)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask import recipe

from asteroid_deepmask.data.manifests import write_test_manifest
from asteroid_deepmask.data.mini2mix.synthetic_speech import make_speakers, random_sentence, synthesise

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, "egs", "mixit", "run.sh")
HUB = ["README.md", "config.json", "model.safetensors", "pytorch_model.bin"]


def _recordings(folder, count=5):
    """One-second recordings of one or two synthetic voices talking at once, at eSpeak's rate (22.05 kHz)."""
    rng = np.random.default_rng(0)
    speakers = make_speakers(4)
    os.makedirs(folder)
    for i in range(count):
        voices = [synthesise(random_sentence(rng), speakers[(i + k) % 4]) for k in range(1 + i % 2)]
        rate = voices[0][1]
        sf.write(os.path.join(folder, f"talk{i}.wav"), sum(np.pad(w, (0, rate))[:rate] for w, _ in voices), rate)


def _labelled(root):
    rng = np.random.default_rng(1)
    for split, count in (("tr", 2), ("cv", 1), ("tt", 2)):
        for i in range(count):
            sources = (0.1 * rng.standard_normal((2, 2000))).astype(np.float32)
            for folder, wav in (("mix", sources.sum(0)), ("s1", sources[0]), ("s2", sources[1])):
                os.makedirs(os.path.join(root, "wav8k", "min", split, folder), exist_ok=True)
                sf.write(os.path.join(root, "wav8k", "min", split, folder, f"u{i}.wav"), wav, 8000)
    return root


def run(tmp, *args):
    cmd = [RUN, "--audio", str(tmp / "audio"), "--manifests", str(tmp / "manifests"), "--hparams",
           "hparams/mixit/tiny.yaml", "--overrides", "data.segment=0.25 training.max_epochs=1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable}, cwd=ROOT)


@pytest.fixture(scope="module")
def unsupervised(tmp_path_factory):
    """A folder of recordings, and the recipe's stages 0-2 run on it."""
    tmp = tmp_path_factory.mktemp("mixit")
    _recordings(tmp / "audio")
    out = run(tmp, "--exp", str(tmp / "exp"), "--stop-stage", "2")
    assert out.returncode == 0, out.stderr[-2000:]
    return tmp, out


def test_recipe_trains_and_packages_a_model_from_unlabeled_recordings(unsupervised):
    tmp, out = unsupervised
    assert "16 training segments from 4 recordings" in out.stdout and "from 1 held-out recordings" in out.stdout
    assert os.path.isfile(tmp / "exp" / "best_model.pth")
    out = run(tmp, "--exp", str(tmp / "exp"), "--stage", "4")
    assert out.returncode == 0, out.stderr[-2000:]
    assert sorted(os.listdir(tmp / "exp" / "hub")) == HUB
    config = json.loads((tmp / "exp" / "hub" / "config.json").read_text())
    assert (config["model_args"]["n_src"], config["model_args"]["n_outputs"]) == (2, 4)


def test_recipe_stage_1_makes_the_labelled_corpus_and_test_manifests(unsupervised):
    # stage 2 with them is train_experiment(..., supervised_manifests=...): tests/training/test_training_mixit.py
    tmp, _ = unsupervised
    corpus = _labelled(str(tmp / "corpus"))
    out = run(tmp, "--stage", "1", "--stop-stage", "1", "--supervised-corpus", corpus, "--supervised-manifests",
              str(tmp / "labelled"), "--test-corpus", os.path.join(corpus, "wav8k", "min", "tt"), "--test-manifests",
              str(tmp / "test"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(json.loads((tmp / "labelled" / "tr.json").read_text())) == 2
    assert len(json.loads((tmp / "test" / "tt.json").read_text())) == 2


def test_a_labelled_test_folder_becomes_a_manifest(tmp_path, capsys):
    corpus = _labelled(str(tmp_path / "corpus"))
    libri = tmp_path / "Libri2Mix" / "test"
    for folder in ("mix_clean", "s1", "s2"):
        os.makedirs(libri / folder)
        sf.write(libri / folder / "a.wav", np.zeros(800, np.float32), 8000)
    for folder in (os.path.join(corpus, "wav8k", "min", "tt"), str(libri)):
        path = write_test_manifest(folder, str(tmp_path / os.path.basename(folder)))
        entries = json.loads(open(path).read())
        assert entries and all(len(e["sources"]) == 2 and os.path.isfile(e["mix"]) for e in entries)
    with pytest.raises(ValueError, match="holds the manifest of"):
        write_test_manifest(str(libri), str(tmp_path / "tt"))
    assert recipe.main(["test-manifest", "--folder", corpus, "--out", str(tmp_path / "bad")]) == 2
    assert "must hold a mixture folder" in capsys.readouterr().err
