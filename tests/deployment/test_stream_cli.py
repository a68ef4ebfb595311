"""`asteroid-deepmask stream` and `export --streaming`: files, standard input, Ctrl-C, and the errors."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.cli import main


@pytest.fixture(scope="module")
def hub(causal_hub):
    """A causal model's hub folder, the model, and a 30 s file of noise bursts at 8 kHz."""
    root, model = causal_hub
    rng = np.random.default_rng(0)
    wav = (0.3 * rng.standard_normal(30 * 8000) * (np.sin(np.arange(30 * 8000) / 900) > 0)).astype("float32")
    sf.write(root / "meeting.wav", wav, 8000, subtype="FLOAT")
    return root, model, wav


def _cli(*args):
    return [sys.executable, "-m", "asteroid_deepmask.cli", *map(str, args)]


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_a_30_s_file_streams_to_the_whole_file_separation(hub, backend, capsys):
    root, model, wav = hub
    source = root / "hub"
    if backend == "onnx":
        source = root / "live.onnx"
        assert main(["export", "--model", str(root / "hub"), "--streaming", "--block-ms", "10", "-o", str(source),
                     "--force"]) == 0
    out = root / f"out_{backend}"
    # blocks of 50 ms for torch (fewer calls; any block gives the same outputs), the export's 10 ms for ONNX
    block = ["--block-ms", "50"] if backend == "torch" else []
    assert main(["stream", "--model", str(source), str(root / "meeting.wav"), "-o", str(out), *block]) == 0
    line = capsys.readouterr().out
    assert "algorithmic latency of 8 samples, 1 ms" in line and "real-time factor" in line and "p99" in line
    heard = 400 + 8 if backend == "torch" else 80 + 8  # the block, then the model's 8 samples
    assert f"latency heard {1000 * heard / 8000:g} ms ({heard} samples" in line
    assert f"blocks of {50 if backend == 'torch' else 10} ms" in line
    with torch.no_grad():
        whole = model(torch.from_numpy(wav)[None])[0].numpy()
    for i in range(2):
        got, rate = sf.read(out / f"meeting_s{i + 1}.wav", dtype="float32")
        assert rate == 8000 and got.shape == whole[i].shape
        assert np.abs(got - whole[i]).max() < 1e-4


def test_raw_pcm_through_a_pipe(hub, tmp_path):
    root, model, wav = hub
    pcm = np.round(np.clip(wav[:16_000], -1, 1) * 32767).astype(np.int16)
    run = subprocess.run(_cli("stream", "--model", root / "hub", "--raw-rate", 8000, "-", "-o", tmp_path / "out"),
                         input=pcm.tobytes(), capture_output=True)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    with torch.no_grad():
        whole = model(torch.from_numpy(pcm.astype(np.float32) / 32768)[None])[0].numpy()
    got = np.stack([sf.read(tmp_path / "out" / f"stream_s{i}.wav", dtype="float32")[0] for i in (1, 2)])
    assert np.abs(got - whole).max() < 1e-4
    # -o -: raw int16, the sources interleaved; the report on standard error
    run = subprocess.run(_cli("stream", "--model", root / "hub", "--raw-rate", 8000, "-", "-o", "-"),
                         input=pcm.tobytes(), capture_output=True)
    raw = np.frombuffer(run.stdout, dtype=np.int16).reshape(-1, 2).T / 32768
    assert run.returncode == 0 and raw.shape == whole.shape and np.abs(raw - whole).max() < 2 / 32768
    assert b"real-time factor" in run.stderr


def _interruptible():
    """In the stream's process, before it starts: Ctrl-C as a terminal gives it. A suite run as a background
    job (``cmd &`` in a script) ignores SIGINT, and the child would inherit that and never see the test's
    Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stream_waiting_on_stdin(hub, tmp_path, samples):
    """``stream -`` in a process, fed ``samples`` of the hub's noise on a standard input left open, once
    it has separated most of them (the model is loaded; the stream is waiting for input)."""
    root, _, wav = hub
    proc = subprocess.Popen(_cli("stream", "--model", root / "hub", "--raw-rate", 8000, "--raw-format", "float32",
                                 "-", "-o", tmp_path / "out"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_interruptible)
    proc.stdin.write(wav[:samples].tobytes())
    proc.stdin.flush()
    out = tmp_path / "out" / "stream_s1.wav"
    deadline = time.time() + 60
    while time.time() < deadline and not (out.exists() and sf.info(out).frames >= samples - 1000):
        time.sleep(0.2)
    return proc


def test_ctrl_c_flushes_and_leaves_playable_files(hub, tmp_path):
    proc = _stream_waiting_on_stdin(hub, tmp_path, 8000)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)  # standard input stays open: the interrupt, not its end, stops the stream
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdin.close()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Interrupted; flushed" in out
    # the samples read before the interrupt, separated to the end: whole files, one length
    lengths = {sf.info(tmp_path / "out" / f"stream_s{i}.wav").frames for i in (1, 2)}
    assert len(lengths) == 1 and 7000 <= lengths.pop() <= 8000
    assert all(np.isfinite(sf.read(tmp_path / "out" / f"stream_s{i}.wav")[0]).all() for i in (1, 2))


def _signal_a_thread_other_than_main(pid, sig):
    """Send ``sig`` to one thread of process ``pid`` that is not its main thread (tgkill), as the kernel
    may do with a Ctrl-C to the process: then the main thread's blocking read is not interrupted."""
    import ctypes
    import platform

    tgkill = {"x86_64": 234, "aarch64": 131}[platform.machine()]
    others = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
    assert others, "the stream process has no thread besides its main one"
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(tgkill, pid, others[-1], sig) == 0, os.strerror(ctypes.get_errno())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads are signalled through Linux's tgkill")
def test_ctrl_c_received_by_another_thread_still_stops_a_stream_waiting_for_input(hub, tmp_path):
    """The race of a loaded machine, made certain: the signal lands on a worker thread (torch's, ONNX
    Runtime's) while the main thread waits for standard input that stays open."""
    proc = _stream_waiting_on_stdin(hub, tmp_path, 4000)
    time.sleep(0.5)  # the rest of the input separated: the main thread now waits in the read
    _signal_a_thread_other_than_main(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the stream did not stop within 20 s of a Ctrl-C received by a worker thread")
    finally:
        proc.stdin.close()
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    assert b"Interrupted; flushed" in proc.stdout.read()


@pytest.mark.parametrize("args, message", [
    (["-", "--model", "{hub}"], "--raw-rate"),
    (["-", "--model", "{hub}", "--raw-rate", "16000"], "16000 Hz but the model takes 8000 Hz"),
    (["{wav}", "--model", "{hub}", "--raw-rate", "8000"], "--raw-rate describes raw PCM"),
    (["{wav}", "--model", "{hub}", "--block-ms", "3.3"], "multiple of the model's stride"),
    (["{wav}", "--model", "{offline}"], "cannot separate a live stream; build the model with causal=True"),
])
def test_stream_errors_are_one_line(hub, tmp_path, args, message, capsys):
    root, _, _ = hub
    offline = tmp_path / "offline"
    DPRNNDeepMask(n_src=2, n_filters=16, bn_chan=8, hid_size=8, n_repeats=1).save_pretrained(str(offline))
    names = dict(hub=root / "hub", wav=root / "meeting.wav", offline=offline)
    code = main(["stream", *(a.format(**names) for a in args), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err


def test_existing_outputs_are_kept_unless_forced(hub, tmp_path, capsys):
    root, _, wav = hub
    sf.write(tmp_path / "short.wav", wav[:800], 8000)
    os.makedirs(tmp_path / "out")
    sf.write(tmp_path / "out" / "short_s1.wav", np.ones(10), 8000)
    assert main(["stream", "--model", str(root / "hub"), str(tmp_path / "short.wav"), "-o", str(tmp_path / "out")]) != 0
    assert "Refusing to overwrite" in capsys.readouterr().err and len(sf.read(tmp_path / "out" / "short_s1.wav")[0]) == 10
    assert main(["stream", "--model", str(root / "hub"), str(tmp_path / "short.wav"), "-o", str(tmp_path / "out"),
                 "--force"]) == 0
    assert len(sf.read(tmp_path / "out" / "short_s1.wav")[0]) == 800
