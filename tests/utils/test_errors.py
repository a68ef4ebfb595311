"""The command-line programs: a user's mistake in one line (exit 2), a bug with its traceback (exit 1)."""
import errno

import numpy as np
import soundfile as sf
import torch

from asteroid_deepmask.cli import main
from asteroid_deepmask.utils.errors import SetupError, run_reporting_errors


def _raise(err):
    raise err


def test_user_errors_are_one_line(capsys):
    for err in (ValueError("bad option --x"), FileNotFoundError("no file 'a.wav'"), PermissionError("denied 'b'"),
                SetupError("eSpeak NG has no voice")):
        assert run_reporting_errors("prog", _raise, err) == 2
        out = capsys.readouterr().err
        assert out == f"prog: error: {err}\n"


def test_full_disk_is_a_user_error(capsys):
    err = OSError(errno.ENOSPC, "No space left on device", "/data/out.wav")
    assert run_reporting_errors("prog", _raise, err) == 2
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and "no space left" in out and "/data/out.wav" in out and "Traceback" not in out


def test_bugs_show_their_traceback(capsys):
    assert run_reporting_errors("prog", lambda: 1 / 0) == 1
    out = capsys.readouterr().err
    assert "Traceback" in out and "ZeroDivisionError" in out and "this is a bug; please report it" in out
    assert run_reporting_errors("prog", _raise, OSError(errno.EIO, "I/O error")) == 1
    assert "Traceback" in capsys.readouterr().err


def test_full_disk_while_separating_keeps_previous_outputs(tiny_dprnn, tmp_path, capsys, monkeypatch):
    torch.save(tiny_dprnn().serialize(), tmp_path / "model.pth")
    sf.write(tmp_path / "mix.wav", 0.1 * np.random.default_rng(0).standard_normal(8000).astype("float32"), 8000)
    argv = ["separate", str(tmp_path / "mix.wav"), "--model", str(tmp_path / "model.pth"), "-o", str(tmp_path / "out")]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", self.name)

    monkeypatch.setattr(sf.SoundFile, "write", full)
    assert main(argv + ["--force"]) == 2
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before  # nothing lost, no partial file


class _HalfWritten:
    """A file that takes half of what is written, then reports a full disk."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_full_disk_while_writing_results_keeps_the_previous_ones(tiny_dprnn, tmp_path, capsys, monkeypatch):
    from asteroid_deepmask import evaluation
    from asteroid_deepmask.recipe import result_files

    sources = 0.1 * np.random.default_rng(0).standard_normal((2, 2, 800)).astype("float32")
    examples = [(f"utt{i}", s.sum(0), s) for i, s in enumerate(sources)]
    evaluation.evaluate(tiny_dprnn(), examples, tmp_path, "tiny")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == sorted(evaluation.RESULT_FILES)

    def full_disk_open(path, mode="r", *args, **kwargs):
        f = open(path, mode, *args, **kwargs)
        return _HalfWritten(f) if str(path).endswith("results.md.partial") else f  # the last of the three

    monkeypatch.setattr(result_files, "open", full_disk_open, raising=False)
    assert run_reporting_errors("recipe evaluate", evaluation.evaluate, tiny_dprnn(n_outputs=4), examples, tmp_path,
                                "tiny") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no space left on the device while writing" in err and "Traceback" not in err
    assert all(str(tmp_path / name) in err for name in evaluation.RESULT_FILES)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # all three as they were, no partial file
