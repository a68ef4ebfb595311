"""egs/librimix/run.sh on a stand-in LibriSpeech / WHAM! tree, its metadata and archives served by file:// URLs."""
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNREACHABLE = dict(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")


def librimix(*args, **env_vars):
    env = {**os.environ, "PYTHON": sys.executable, **env_vars}
    return subprocess.run([os.path.join(ROOT, "egs", "librimix", "run.sh"), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def inputs(fake_librimix_inputs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("librimix")
    return tmp, fake_librimix_inputs(tmp / "in")


@pytest.fixture(scope="module")
def generated(inputs):
    """Stages 0-1: the corpus (8 and 16 kHz, mix_clean and mix_both) with downloaded metadata, and its manifests."""
    tmp, data = inputs
    common = ["--librispeech", data["librispeech"], "--wham-noise", data["wham_noise"], "--corpus", tmp / "Libri2Mix",
              "--sample-rates", "8000 16000", "--types", "mix_clean mix_both", "--jobs", 2]
    out = librimix(*common, "--manifests", tmp / "manifests", "--stop-stage", 1,
                   LIBRIMIX_METADATA_URL=(tmp / "in" / "metadata").as_uri(), **UNREACHABLE)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return tmp, common, out


def test_stage_0_without_data_says_which_option_to_set():
    out = librimix("--stage", 0, "--stop-stage", 0)
    assert out.returncode != 0
    assert all(o in out.stderr for o in ("--librispeech DIR --wham-noise DIR", "--download true", "--librimix DIR"))


def test_a_wrong_path_is_named_before_any_download(tmp_path):
    out = librimix("--librispeech", "/nonexistent/LibriSpeech", "--wham-noise", tmp_path, "--corpus", tmp_path / "c",
                   "--stage", 0, "--stop-stage", 0, **UNREACHABLE)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "--librispeech '/nonexistent/LibriSpeech' is not a folder" in out.stderr
    assert "Could not download" not in out.stderr and "Traceback" not in out.stderr and not (tmp_path / "c").exists()


def test_stages_0_and_1_from_librispeech_and_wham_noise(generated):
    tmp, _, out = generated
    assert (tmp / "Libri2Mix" / "metadata" / "libri2mix_train-clean-360.csv").is_file()  # fetched from the URL
    entries = json.loads((tmp / "manifests" / "tr.json").read_text())
    assert len(entries) == 3 and all("/wav8k/min/train-360/mix_clean/" in e["mix"] for e in entries)
    assert len(json.loads((tmp / "manifests" / "cv.json").read_text())) == 1
    assert "generate Libri2Mix" in out.stdout and "for exp/libri2mix/baseline" in out.stdout


def test_stage_0_twice_changes_nothing(generated):
    tmp, common, _ = generated
    before = {p: p.stat().st_mtime_ns for p in (tmp / "Libri2Mix").rglob("*")}
    out = librimix(*common, "--stage", 0, "--stop-stage", 0, **UNREACHABLE)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("is complete") == 3  # train-360, dev, test
    assert {p: p.stat().st_mtime_ns for p in (tmp / "Libri2Mix").rglob("*")} == before


def test_an_existing_corpus_read_for_another_task_rate_and_speaker_count(generated):
    tmp, _, _ = generated
    out = librimix("--librimix", tmp / "Libri2Mix", "--task", "sep_noisy", "--sample-rate", 16000,
                   "--manifests", tmp / "noisy16k", "--stage", 0, "--stop-stage", 1)
    assert out.returncode == 0 and "using the existing corpus" in out.stdout, out.stderr[-2000:]
    assert "for exp/libri2mix_sep_noisy_16k/baseline" in out.stdout  # its results are kept apart
    entry = json.loads((tmp / "noisy16k" / "tt.json").read_text())[0]
    assert "/wav16k/min/test/mix_both/" in entry["mix"] and "/wav16k/min/test/s2/" in entry["sources"][1]
    out = librimix("--librimix", tmp / "Libri2Mix", "--n-src", 3, "--manifests", tmp / "three", "--stage", 1,
                   "--stop-stage", 1)
    assert out.returncode == 2 and "lacks its sources" in out.stderr and "/s3/" in out.stderr
    out = librimix("--librimix", tmp / "missing", "--stage", 0, "--stop-stage", 0)
    assert out.returncode == 2 and "--librimix" in out.stderr and "is not a folder" in out.stderr


def test_download_true_fetches_librispeech_and_wham_noise_after_printing_their_sizes(inputs):
    tmp, data = inputs
    archives = tmp / "archives"
    archives.mkdir()
    for subset in ("train-clean-360", "dev-clean", "test-clean"):
        with tarfile.open(archives / f"{subset}.tar.gz", "w:gz") as tar:
            tar.add(os.path.join(data["librispeech"], subset), f"LibriSpeech/{subset}")
    with zipfile.ZipFile(archives / "wham_noise.zip", "w") as z:
        for here, _, files in os.walk(data["wham_noise"]):
            for name in files:
                path = os.path.join(here, name)
                z.write(path, os.path.join("wham_noise", os.path.relpath(path, data["wham_noise"])))
    urls = dict(LIBRISPEECH_URL=archives.as_uri(), WHAM_NOISE_URL=(archives / "wham_noise.zip").as_uri())
    args = ["--download", "true", "--librispeech", tmp / "dl" / "LibriSpeech", "--wham-noise", tmp / "dl" / "noise",
            "--librimix-metadata", data["metadata"], "--corpus", tmp / "dl" / "Libri2Mix", "--stop-stage", 0]
    out = librimix(*args, **urls)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    size = os.path.getsize(archives / "dev-clean.tar.gz") / 1e6
    assert f"download: dev-clean, {size:.2f} MB, from {archives.as_uri()}/dev-clean.tar.gz" in out.stdout
    assert out.stdout.index("download: wham_noise") < out.stdout.index("librimix: dev")  # sizes first
    assert sorted(os.listdir(tmp / "dl" / "LibriSpeech")) == ["dev-clean", "test-clean", "train-clean-360"]
    assert sorted(os.listdir(tmp / "dl" / "noise")) == ["cv", "tr", "tt"]  # unpacked, archives deleted
    assert len(os.listdir(tmp / "dl" / "Libri2Mix" / "wav8k" / "min" / "train-360" / "mix_clean")) == 3
    again = librimix(*args, **urls)
    assert again.returncode == 0 and "download:" not in again.stdout, again.stderr[-2000:]
