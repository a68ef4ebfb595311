"""`asteroid-deepmask web`: the page in headless Chromium against the Python streamer, and the folder's rules.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (or $CHROMIUM and $CHROMEDRIVER) and
onnxruntime-web in the cache (``python -m asteroid_deepmask.deployment.web_runtime``, which scripts/setup.sh
runs); without them they fail saying how to install them. One browser serves every test of the module.
"""
import json
import os
import shutil
import tarfile

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.cli import main
from asteroid_deepmask.deployment import web_runtime
from asteroid_deepmask.deployment.browser import chromium, run_page, serve
from asteroid_deepmask.deployment.streamers import load_streamer
from asteroid_deepmask.deployment.web import build_web_folder
from asteroid_deepmask.utils.errors import SetupError

RATE, FILE_SAMPLES = 8000, 4 * 8000 + 37  # 4 s and a partial last block: the NaN padding ends the stream
SUMMARY_SAMPLES = 8000


def _bursts(n, rate, seed):
    """Noise bursts, as a speech-like mixture."""
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal(n) * (np.sin(np.arange(n) * 8000 / (900 * rate)) > 0)).astype("float32")


def _snr_db(reference, estimate):
    return 10 * np.log10(np.sum(reference ** 2) / np.sum((reference - estimate) ** 2))


@pytest.fixture(scope="module")
def served(causal_hub, tmp_path_factory):
    """``(root, url, isolated_url)``: a folder with the float32 and int8 page folders and the test audio, served on
    localhost plainly and with the cross-origin isolation headers."""
    _, model = causal_hub
    root = tmp_path_factory.mktemp("web")
    for name, quantize in (("f32", None), ("int8", "int8")):
        try:
            build_web_folder(model, root / name, quantize=quantize)
        except SetupError as err:
            pytest.fail(f"{err} (for the tests, `python -m asteroid_deepmask.deployment.web_runtime [TARBALL]` fills "
                        "the cache)", pytrace=False)
    sf.write(root / "mix.wav", _bursts(FILE_SAMPLES, RATE, 0), RATE, subtype="FLOAT")
    # tones under 3.5 kHz, known exactly at 8 kHz, and one at 5.5 kHz that the resampler's low-pass must remove
    # (kept, it would fold to 2.5 kHz)
    tones = lambda t: 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3100 * t + 1) * (t % 0.5 < 0.3)
    t = np.arange(2 * 44100) / 44100
    sf.write(root / "tones44k.wav", tones(t) + 0.2 * np.sin(2 * np.pi * 5500 * t), 44100, subtype="PCM_16")
    np.save(root / "tones8k.npy", tones(np.arange(2 * RATE) / RATE).astype("float32"))
    servers = [serve(root, isolated) for isolated in (False, True)]
    yield root, *(url for _, url in servers)
    for server, _ in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def browser(served):
    """Headless Chromium whose microphone plays ``mix.wav`` (Chromium's fake capture device)."""
    try:
        driver = chromium(fake_microphone=served[0] / "mix.wav")
    except SetupError as err:
        pytest.fail(str(err), pytrace=False)
    yield driver
    driver.quit()


def _python_stream(path, wav):
    """The Python streamer's sources of ``wav`` through the streaming file ``path``: ``[n_src, time]``."""
    streamer = load_streamer(str(path))
    return torch.cat([streamer.process(torch.from_numpy(wav)[None]), streamer.flush()], -1)[0].numpy()


@pytest.fixture(scope="module")
def file_results(served, browser):
    root, url, _ = served
    return {name: run_page(browser, f"{url}/{name}/index.html?file=../mix.wav") for name in ("f32", "int8")}


def test_the_page_separates_a_file_as_the_python_streamer_in_float32(served, file_results):
    root, _, _ = served
    title, summary = file_results["f32"]
    assert title == "done"
    wav, _ = sf.read(root / "mix.wav", dtype="float32")
    expected = _python_stream(root / "f32" / "model.onnx", wav)
    assert (summary["block"], summary["latency"], summary["n_src"]) == (80, 8, 2)
    assert summary["blocks"] == FILE_SAMPLES // 80 + 1  # the last, partial block too
    assert summary["rtf"] > 0 and summary["p99_ms"] >= summary["median_ms"] > 0
    assert summary["threads"] == 1  # no isolation headers: one thread
    for source, reference in zip(summary["sources"], expected):
        assert len(source["samples"]) == SUMMARY_SAMPLES
        assert np.abs(np.array(source["samples"]) - reference[:SUMMARY_SAMPLES]).max() < 1e-4
        # the rms covers the whole stream: its end (the NaN-padded block and the decoder's tail) too
        assert source["rms"] == pytest.approx(float(np.sqrt(np.mean(reference.astype(np.float64) ** 2))), rel=1e-4)


def test_a_short_file_ends_as_the_python_streamer_ends_it(served, browser):
    """The whole of a stream shorter than the summary, its NaN-padded last block and decoder tail included."""
    root, url, _ = served
    wav = _bursts(2000 + 37, RATE, 1)  # a last block of 37 samples, not whole strides, in a burst (not a pause)
    sf.write(root / "short.wav", wav, RATE, subtype="FLOAT")
    title, summary = run_page(browser, f"{url}/f32/index.html?file=../short.wav")
    assert title == "done"
    expected = _python_stream(root / "f32" / "model.onnx", wav)
    assert expected.shape[-1] == len(wav)
    for source, reference in zip(summary["sources"], expected):
        assert len(source["samples"]) == len(wav)
        assert np.abs(np.array(source["samples"]) - reference).max() < 1e-4


def test_the_int8_page_agrees_with_the_python_streamer_of_its_file(served, file_results):
    root, _, _ = served
    title, summary = file_results["int8"]
    assert title == "done"
    wav, _ = sf.read(root / "mix.wav", dtype="float32")
    expected = _python_stream(root / "int8" / "model.onnx", wav)
    for source, reference in zip(summary["sources"], expected):
        assert _snr_db(reference[:SUMMARY_SAMPLES], np.array(source["samples"])) >= 25


def test_with_the_isolation_headers_the_page_runs_on_several_threads(served, browser):
    root, _, isolated = served
    title, summary = run_page(browser, f"{isolated}/f32/index.html?file=../mix.wav")
    assert title == "done" and summary["threads"] == min(4, os.cpu_count())
    wav, _ = sf.read(root / "mix.wav", dtype="float32")
    for source, reference in zip(summary["sources"], _python_stream(root / "f32" / "model.onnx", wav)):
        assert np.abs(np.array(source["samples"]) - reference[:SUMMARY_SAMPLES]).max() < 1e-4


def test_the_folder_is_static_everything_comes_from_the_local_server(served, file_results):
    _, url, _ = served
    loaded = file_results["f32"][1]["resources"]
    # the worker's fetches are in the list: the runtime's WebAssembly and the model
    assert f"{url}/f32/ort/ort-wasm-simd-threaded.wasm" in loaded and f"{url}/f32/model.onnx" in loaded
    assert all(u.startswith(f"{url}/") for u in loaded), [u for u in loaded if not u.startswith(f"{url}/")]


def test_a_16_bit_file_at_44_1_khz_is_low_passed_and_resampled_to_the_model(served, browser):
    root, url, _ = served
    title, summary = run_page(browser, f"{url}/f32/index.html?file=../tones44k.wav")
    assert title == "done"
    expected = _python_stream(root / "f32" / "model.onnx", np.load(root / "tones8k.npy"))
    for source, reference in zip(summary["sources"], expected):
        # 46 to 53 dB measured (the 16-bit samples and the filter's edge, through the model); the 5.5 kHz
        # tone folded into the band would leave under 10 dB
        assert _snr_db(reference[:SUMMARY_SAMPLES], np.array(source["samples"])) > 35


def test_the_microphone_streams_with_non_silent_sources(served, browser):
    _, url, _ = served
    title, summary = run_page(browser, f"{url}/f32/index.html?mic=2")
    assert title == "done"
    assert summary["blocks"] >= 100  # about 2 s of 10 ms blocks
    assert all(source["rms"] > 1e-3 for source in summary["sources"])
    assert 0 < summary["rtf"] < 1 and summary["median_ms"] > 0


def test_a_wrong_file_is_reported_in_the_title(served, browser):
    _, url, _ = served
    title, _ = run_page(browser, f"{url}/f32/index.html?file=../absent.wav")
    assert title.startswith("error: cannot fetch ../absent.wav: 404")
    title, _ = run_page(browser, f"{url}/f32/index.html?file=model.json")
    assert title == ("error: model.json: not a WAV file (no RIFF/WAVE header); give a .wav file, 16-bit PCM or "
                     "32-bit float")


def test_a_model_the_runtime_cannot_load_or_not_causal_is_reported_in_the_title(served, browser):
    root, url, _ = served
    shutil.copytree(root / "f32", root / "broken")
    (root / "broken" / "model.onnx").write_bytes(b"not a model")
    title, _ = run_page(browser, f"{url}/broken/index.html?file=../mix.wav")
    assert title.startswith("error: ONNX Runtime could not load model.onnx: ")
    info = json.loads((root / "broken" / "model.json").read_text())
    info["metadata"]["model_args"]["causal"] = False
    (root / "broken" / "model.json").write_text(json.dumps(info))
    title, _ = run_page(browser, f"{url}/broken/index.html?file=../mix.wav")
    assert title.startswith("error: model.onnx is not a causal model's streaming step") and "causal=True" in title


def test_a_non_causal_model_is_refused_naming_causal_true(tmp_path, capsys):
    DPRNNDeepMask(n_src=2, n_filters=16, bn_chan=8, hid_size=8, n_repeats=1).save_pretrained(str(tmp_path / "hub"))
    assert main(["web", "--model", str(tmp_path / "hub"), "-o", str(tmp_path / "site")]) == 2
    assert "causal=True" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "site") and os.listdir(tmp_path) == ["hub"]  # nothing left behind


def test_the_folder_is_rewritten_when_ours_and_refused_when_not(causal_hub, tmp_path, capsys):
    root, _ = causal_hub
    site = tmp_path / "site"
    assert main(["web", "--model", str(root / "hub"), "-o", str(site), "--block-ms", "20", "--quantize", "int8"]) == 0
    line = capsys.readouterr().out
    assert "blocks of 160 samples (20 ms at 8000 Hz)" in line and "onnxruntime-web 1.30.0 14." in line
    info = json.loads((site / "model.json").read_text())
    assert info["metadata"]["block"] == 160 and info["metadata"]["quantization"]["dtype"] == "int8"
    assert sorted(os.listdir(site / "ort")) == sorted([*web_runtime.RUNTIME_FILES, "package.json"])
    (site / "stale.txt").write_text("from an earlier build")
    assert main(["web", "--model", str(root / "hub"), "-o", str(site)]) == 0  # ours: rebuilt whole
    assert "stale.txt" not in os.listdir(site)
    assert "quantization" not in json.loads((site / "model.json").read_text())["metadata"]
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    assert main(["web", "--model", str(root / "hub"), "-o", str(theirs)]) == 2
    assert "not empty and was not written by `asteroid-deepmask web`" in capsys.readouterr().err
    assert os.listdir(theirs) == ["notes.txt"]
    assert main(["web", "--model", str(root / "hub"), "-o", str(theirs), "--force"]) == 0
    assert (theirs / "notes.txt").read_text() == "keep me" and (theirs / "index.html").is_file()


def test_a_block_that_is_not_whole_strides_names_the_flag(causal_hub, tmp_path, capsys):
    root, _ = causal_hub
    assert main(["web", "--model", str(root / "hub"), "-o", str(tmp_path / "site"), "--block-ms", "4.5"]) == 2
    assert "--block-ms 4.5 is 36 samples" in capsys.readouterr().err


def test_the_runtime_comes_from_a_tarball_a_package_folder_or_says_how_to_get_it(tmp_path, monkeypatch):
    cached = web_runtime.find_runtime()  # the cache the test run relies on
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no npm
    with pytest.raises(SetupError, match=r"npm is not installed; get onnxruntime-web-1.30.0.tgz .* --runtime FILE"):
        web_runtime.find_runtime()
    # the unpacked package: package/dist/... and package/package.json
    package = tmp_path / "package"
    (package / "dist").mkdir(parents=True)
    for name, path in cached.items():
        shutil.copyfile(path, package / ("package.json" if name == "package.json" else f"dist/{name}"))
    found = web_runtime.find_runtime(str(package))
    assert found["ort-wasm-simd-threaded.wasm"] == str(package / "dist" / "ort-wasm-simd-threaded.wasm")
    manifest = json.loads((package / "package.json").read_text())
    (package / "package.json").write_text(json.dumps({**manifest, "version": "1.29.0"}))
    with pytest.raises(ValueError, match=r"is onnxruntime-web 1.29.0, not onnxruntime-web 1.30.0"):
        web_runtime.find_runtime(str(package))
    # a tarball whose bytes differ from the published one is refused by its integrity
    forged = tmp_path / web_runtime.TARBALL
    with tarfile.open(forged, "w:gz") as archive:
        archive.add(package, arcname="package")
    with pytest.raises(ValueError, match=r"is not onnxruntime-web-1.30.0.tgz as published \(its sha512 integrity"):
        web_runtime.find_runtime(str(forged))
    assert not os.path.exists(web_runtime.cache_dir())


def test_the_integrity_is_npm_s_sha512_in_base64(tmp_path):
    (tmp_path / "x").write_bytes(b"abc")
    # sha512("abc") = ddaf35a1...a54ca49f, from FIPS 180-2's example
    assert web_runtime.tarball_integrity(tmp_path / "x") == (
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==")
