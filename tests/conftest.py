"""Shared fixtures: tiny models, a tiny experiment to train, training logs, and small stand-ins for
the licensed corpora (a WSJ0 tree of synthetic utterances with MERL-style mix lists, and 'official
WHAMR! scripts' that write the WHAMR! layout)."""
import csv
import glob
import os
import textwrap

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml


from tiny_hparams import TINY_HPARAMS


@pytest.fixture
def tiny_experiment(tmp_path):
    """``(hparams file, manifests folder)``: 2 training, 1 validation and 1 test mixtures of 0.25 s."""
    rng = np.random.default_rng(0)
    for split, count in (("tr", 2), ("cv", 1), ("tt", 1)):
        for i in range(count):
            sources = 0.1 * rng.standard_normal((2, 2000)).astype("float32")
            for folder, wav in (("mix", sources.sum(0)), ("s1", sources[0]), ("s2", sources[1])):
                os.makedirs(tmp_path / "corpus" / "wav8k" / "min" / split / folder, exist_ok=True)
                sf.write(tmp_path / "corpus" / "wav8k" / "min" / split / folder / f"utt{i}.wav", wav, 8000)
    from asteroid_deepmask.data import write_manifests

    write_manifests(str(tmp_path / "corpus"), str(tmp_path / "manifests"), TINY_HPARAMS["data"])
    hparams = tmp_path / "tiny.yaml"
    hparams.write_text(yaml.safe_dump(TINY_HPARAMS))
    return str(hparams), str(tmp_path / "manifests")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def tiny_args():
    """Small DPRNNDeepMask arguments that keep a forward pass in milliseconds."""
    return dict(n_filters=16, kernel_size=16, stride=8, bn_chan=16, hid_size=8, chunk_size=10, n_repeats=1)


@pytest.fixture
def tiny_dprnn(tiny_args):
    """``tiny_dprnn(**kwargs)``: a two-source DPRNNDeepMask with ``tiny_args``, ``kwargs`` on top."""
    from asteroid_deepmask import DPRNNDeepMask

    return lambda **kwargs: DPRNNDeepMask(**{"n_src": 2, **tiny_args, **kwargs})


@pytest.fixture
def logged_epochs():
    """``logged_epochs(exp_dir)``: epochs with a validation loss in each run's CSV log, run by run."""
    return _logged_epochs


def _logged_epochs(exp_dir):
    paths = glob.glob(os.path.join(exp_dir, "logs", "version_*", "metrics.csv"))
    paths.sort(key=lambda p: int(os.path.basename(os.path.dirname(p)).split("_")[1]))
    return [sorted({int(r["epoch"]) for r in csv.DictReader(open(p)) if r.get("val_loss")}) for p in paths]


@pytest.fixture(scope="session")
def fake_utterance():
    """``fake_utterance(rng, seconds)``: voiced bursts and pauses at 16 kHz, a crude stand-in for read speech."""
    return _utterance


@pytest.fixture(scope="session")
def fake_wsj0():
    """``fake_wsj0(root, n_src=2, mixtures=(4, 2, 2), seed=0)``: a WSJ0 tree and mix lists; returns the lists folder."""
    return _make_fake_wsj0


@pytest.fixture(scope="session")
def fake_whamr_inputs():
    """``fake_whamr_inputs(root)``: a WSJ0 tree, WHAM! noise and stand-in official scripts for WHAMR!."""
    return _make_fake_whamr_inputs


SPLIT_DIRS = {"tr": "si_tr_s", "cv": "si_dt_05", "tt": "si_et_05"}


def _utterance(rng, seconds):
    """Voiced bursts separated by pauses, at 16 kHz: a crude stand-in for read speech."""
    rate, wav = 16000, []
    while sum(map(len, wav)) < seconds * rate:
        t = np.arange(int(rng.uniform(0.15, 0.4) * rate)) / rate
        f0 = rng.uniform(90, 250)
        burst = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)) * np.hanning(len(t))
        wav += [0.1 * burst, np.zeros(int(rng.uniform(0.05, 0.3) * rate))]
    return np.concatenate(wav)[: int(seconds * rate)]


def _make_fake_wsj0(root, n_src=2, mixtures=(4, 2, 2), seed=0):
    """``root/wsj0/<split dir>/<spk>/<utt>.wav`` and ``root/lists/mix_<n>_spk_<split>.txt``; returns the lists folder."""
    rng = np.random.default_rng(seed)
    lists = os.path.join(root, "lists")
    os.makedirs(lists, exist_ok=True)
    for split, count in zip(SPLIT_DIRS, mixtures):
        lines = []
        for m in range(count):
            fields = []
            for s in range(n_src):
                speaker = f"{split}{m}{s}"
                rel = f"wsj0/{SPLIT_DIRS[split]}/{speaker}/{speaker}c020{m}.wav"
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                sf.write(os.path.join(root, rel), _utterance(rng, rng.uniform(0.6, 1.0)), 16000, subtype="PCM_16")
                level = rng.uniform(0, 2.5) * (1 if s == 0 else -1)
                fields += [rel, f"{level:.5f}"]
            lines.append(" ".join(fields))
        with open(os.path.join(lists, f"mix_{n_src}_spk_{split}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return lists


FAKE_WHAMR_SCRIPT = textwrap.dedent('''
    """Writes the WHAMR! layout for the files of --wsj0-root, as the official script's stand-in."""
    import argparse, os
    import numpy as np, soundfile as sf
    p = argparse.ArgumentParser()
    for name in ("--wsj0-root", "--wham-noise-root", "--output-dir"):
        p.add_argument(name, required=True)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    for split in ("tr", "cv", "tt"):
        for i in range(3):
            s = rng.standard_normal((2, 4000)) * 0.1
            folders = {"mix_both_reverb": s.sum(0) + 0.01, "mix_clean_anechoic": s.sum(0),
                       "s1_reverb": s[0], "s2_reverb": s[1], "s1_anechoic": s[0], "s2_anechoic": s[1]}
            for folder, wav in folders.items():
                out = os.path.join(a.output_dir, "wav8k", "min", split, folder)
                os.makedirs(out, exist_ok=True)
                sf.write(os.path.join(out, f"utt{i}.wav"), wav, 8000)
    with open(os.path.join(a.output_dir, "calls.txt"), "a") as f:
        f.write(a.wsj0_root + " " + a.wham_noise_root + "\\n")
''')


def _make_fake_whamr_inputs(root):
    """``(wsj0, wham_noise, scripts, site)`` folders: enough for the recipe to call the 'official' script;
    ``site`` (for PYTHONPATH) holds a stand-in pyroomacoustics with the 2019 room API the scripts need."""
    wsj0, noise, scripts, site = (os.path.join(root, n) for n in ("wsj0_wav", "wham_noise", "whamr_scripts", "site"))
    os.makedirs(os.path.join(site, "pyroomacoustics"))
    with open(os.path.join(site, "pyroomacoustics", "__init__.py"), "w") as f:
        f.write('__version__ = "0.3.1"\n\n\nclass ShoeBox:\n    def __init__(self, p, fs=8000, t0=0.0, absorption=0.0):\n        pass\n')
    os.makedirs(os.path.join(wsj0, "wsj0"))
    for split in ("tr", "cv", "tt"):
        os.makedirs(os.path.join(noise, split))
    os.makedirs(scripts)
    with open(os.path.join(scripts, "create_wham_from_scratch.py"), "w") as f:
        f.write(FAKE_WHAMR_SCRIPT)
    return wsj0, noise, scripts, site


@pytest.fixture(scope="session")
def fake_librimix_inputs():
    """``fake_librimix_inputs(root, n_src=2)``: a LibriSpeech tree (.flac), WHAM! noise (stereo) and official-style
    metadata CSVs for train-360 (with speed-perturbed noise names), train-100, dev and test; returns their folders."""
    return _make_fake_librimix_inputs


LIBRIMIX_SUBSETS = {"train-360": ("train-clean-360", "tr", 3), "train-100": ("train-clean-100", "tr", 1),
                    "dev": ("dev-clean", "cv", 1), "test": ("test-clean", "tt", 1)}


def _make_fake_librimix_inputs(root, n_src=2, seed=0):
    """``{"librispeech", "wham_noise", "metadata"}``: ``metadata/Libri<n>Mix/libri<n>mix_<subset>.csv`` whose rows
    name the files made here; the first train-360 noise is shorter than its utterances (looped), the others of
    train-360 are the 0.8 and 1.2 speed versions (``...sp08.wav``) of files that exist only unperturbed."""
    rng = np.random.default_rng(seed)
    folders = {k: os.path.join(root, k) for k in ("librispeech", "wham_noise", "metadata")}
    os.makedirs(os.path.join(folders["metadata"], f"Libri{n_src}Mix"), exist_ok=True)
    for subset, (full, noise_split, count) in LIBRIMIX_SUBSETS.items():
        header = [c for i in range(1, n_src + 1) for c in (f"source_{i}_path", f"source_{i}_gain")]
        lines = [",".join(["mixture_ID", *header, "noise_path", "noise_gain"])]
        for m in range(count):
            fields, ids = [], []
            for s in range(n_src):
                speaker, chapter, utt = 100 + 10 * m + s, 20 + s, f"{m:04d}"
                ids.append(f"{speaker}-{chapter}-{utt}")
                rel = f"{full}/{speaker}/{chapter}/{ids[-1]}.flac"
                os.makedirs(os.path.dirname(os.path.join(folders["librispeech"], rel)), exist_ok=True)
                sf.write(os.path.join(folders["librispeech"], rel), _utterance(rng, rng.uniform(0.6, 0.95)), 16000,
                         subtype="PCM_16")
                fields += [rel, f"{rng.uniform(0.3, 1.5)!r}"]
            name = f"{noise_split}/noise{m}{'_' + subset if subset.startswith('train') else ''}.wav"
            seconds = 0.55 if subset == "train-360" and m == 0 else 1.0  # 0.55 s: shorter than its utterances
            os.makedirs(os.path.join(folders["wham_noise"], noise_split), exist_ok=True)
            sf.write(os.path.join(folders["wham_noise"], name), 0.05 * rng.standard_normal((int(seconds * 16000), 2)),
                     16000, subtype="PCM_16")
            if subset == "train-360" and m:
                name = name.replace(".wav", ("sp08", "sp12")[m % 2] + ".wav")  # made from the file above
            lines.append(",".join(["_".join(ids), *fields, name, f"{rng.uniform(0.2, 0.6)!r}"]))
        with open(os.path.join(folders["metadata"], f"Libri{n_src}Mix", f"libri{n_src}mix_{full}.csv"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return folders


@pytest.fixture(scope="session")
def voices():
    """Three synthesised voices (eSpeak NG), 1 s each at 8 kHz, ``[3, 8000]`` float32, each of power 0.01."""
    import torchaudio.functional as AF

    from asteroid_deepmask.data.mini2mix.synthetic_speech import make_speakers, synthesise

    out = []
    for speaker, text in zip(make_speakers(3, seed=1), ("seven green islands", "one blue river", "four tall trees")):
        wav, rate = synthesise(text, speaker)
        wav = torch.nn.functional.pad(AF.resample(torch.from_numpy(wav), rate, 8000), (0, 8000))[:8000]
        out.append(0.1 * wav / wav.pow(2).mean().sqrt())
    return torch.stack(out)
