import os

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask.cli import main
from asteroid_deepmask.deployment.long_files import separate_file
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder

#: The P = 4 outputs of the stub model: the input scaled by these (-10.5, -60, -3.1 and -inf dB).
GAINS = torch.tensor([0.3, 0.001, 0.7, 0.0])


@pytest.fixture
def scaled_outputs(tiny_dprnn, tmp_path, monkeypatch):
    """A saved 2-source model with P = 4 outputs whose outputs are the input times :data:`GAINS`."""
    monkeypatch.setattr(DeepMaskEncoderMaskerDecoder, "forward_outputs",
                        lambda self, wav: wav.reshape(-1, 1, wav.shape[-1]) * GAINS[:, None])
    model = tiny_dprnn(n_src=2, n_outputs=4)
    torch.save(model.serialize(), tmp_path / "model.pth")
    mix = 0.1 * np.random.default_rng(0).standard_normal(8000).astype("float32")
    sf.write(tmp_path / "mix.wav", mix, 8000, subtype="FLOAT")
    sf.write(tmp_path / "silence.wav", np.zeros(4000, "float32"), 8000)
    return model, mix, tmp_path


def test_cli_writes_only_the_active_outputs_loudest_first(scaled_outputs, capsys):
    _, mix, d = scaled_outputs
    code = main(["separate", str(d / "mix.wav"), str(d / "silence.wav"), "--model", str(d / "model.pth"),
                 "-o", str(d / "out"), "--active-only", "--window", "0.3", "--overlap", "0.05"])
    assert code == 0 and "Wrote 2 active sources" in capsys.readouterr().out
    assert sorted(p.name for p in (d / "out").iterdir()) == ["mix_s1.wav", "mix_s2.wav"]  # nothing of the silence
    for name, gain in (("mix_s1.wav", 0.7), ("mix_s2.wav", 0.3)):
        np.testing.assert_allclose(sf.read(d / "out" / name, dtype="float32")[0], gain * mix, atol=1e-6)
    code = main(["separate", str(d / "mix.wav"), "--model", str(d / "model.pth"), "-o", str(d / "low"),
                 "--active-only", "--active-threshold", "-70"])
    assert code == 0 and len(list((d / "low").iterdir())) == 3  # the -60 dB output too


def test_library_path_and_refusals(scaled_outputs):
    model, _, d = scaled_outputs
    # the outputs are copies of one signal: the 0.7 one is 0.4 (-8 dB) from its nearest, the 0.3 one -10.5 dB
    written = separate_file(model, str(d / "mix.wav"), str(d / "lib"), active_only=True, active_threshold_db=-9.0)
    assert [p.rsplit("/", 1)[1] for p in written] == ["mix_s1.wav"]
    with pytest.raises(ValueError, match="Refusing to overwrite"):
        separate_file(model, str(d / "mix.wav"), str(d / "lib"), active_only=True)
    model.export(str(d / "model.pt"))
    with pytest.raises(ValueError, match="gives the 2 grouped sources, not the model's 4 outputs"):
        separate_file(str(d / "model.pt"), str(d / "mix.wav"), str(d / "onnx"), active_only=True)


#: Gains that vary in time: the P = 4 outputs of the second stub are the input times the first row where
#: the input is loud (its first 0.1 s), times the second elsewhere.
LOUD_GAINS, QUIET_GAINS = torch.tensor([0.9, 0.001, 0.1, 0.0]), torch.tensor([0.01, 0.001, 0.9, 0.0])


def gated_outputs(self, wav):
    wav = wav.reshape(-1, 1, wav.shape[-1])
    return wav * torch.where(wav.abs() > 0.35, LOUD_GAINS[:, None], QUIET_GAINS[:, None])


def test_the_ranking_is_over_the_whole_file_not_per_window(tiny_dprnn, tmp_path, monkeypatch, capsys):
    """Output 0 is the loudest in the first window and nearly silent after it; output 2 is the loudest over
    the file (-3.2 dB against -4.8 dB): ranking by the first window, by the last, or window by window, fails."""
    monkeypatch.setattr(DeepMaskEncoderMaskerDecoder, "forward_outputs", gated_outputs)
    torch.save(tiny_dprnn(n_src=2, n_outputs=4).serialize(), tmp_path / "model.pth")
    signs = np.sign(np.random.default_rng(1).standard_normal(8000)).astype("float32")
    loud = np.arange(8000) < 800
    mix = signs * np.where(loud, 0.5, 0.2).astype("float32")
    sf.write(tmp_path / "mix.wav", mix, 8000, subtype="FLOAT")
    code = main(["separate", str(tmp_path / "mix.wav"), "--model", str(tmp_path / "model.pth"), "-o",
                 str(tmp_path / "out"), "--active-only", "--window", "0.3", "--overlap", "0.05"])  # 4 windows
    assert code == 0 and "Wrote 2 active sources" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mix_s1.wav", "mix_s2.wav"]
    for name, index in (("mix_s1.wav", 2), ("mix_s2.wav", 0)):
        expected = mix * np.where(loud, float(LOUD_GAINS[index]), float(QUIET_GAINS[index]))
        np.testing.assert_allclose(sf.read(tmp_path / "out" / name, dtype="float32")[0], expected, atol=1e-6,
                                   err_msg=name)


def test_a_killed_runs_scratch_folder_goes_with_the_next_run(scaled_outputs, monkeypatch):
    """A killed run leaves its hidden scratch folder (all P outputs, unsorted); the next run of that input
    writes into the same name, removing it first, and leaves nothing hidden behind."""
    from asteroid_deepmask.deployment import long_files

    _, mix, d = scaled_outputs
    leftover = d / "out" / ".mix.separating.partial"
    leftover.mkdir(parents=True)
    for name in ("mix_s1.wav", "mix_s3.wav"):
        (leftover / name).write_text("half-written by a killed run")
    used, write_windows = [], long_files._write_windows

    def recording(separator, source, paths, *args):
        used.append((os.path.dirname(paths[0]), sorted(os.listdir(os.path.dirname(paths[0])))))
        return write_windows(separator, source, paths, *args)

    monkeypatch.setattr(long_files, "_write_windows", recording)
    assert main(["separate", str(d / "mix.wav"), "--model", str(d / "model.pth"), "-o", str(d / "out"),
                 "--active-only"]) == 0
    assert used == [(str(leftover), [])]  # the killed run's name, emptied before this run wrote
    assert sorted(p.name for p in (d / "out").iterdir()) == ["mix_s1.wav", "mix_s2.wav"]  # hidden ones included
    np.testing.assert_allclose(sf.read(d / "out" / "mix_s1.wav", dtype="float32")[0], 0.7 * mix, atol=1e-6)


def test_force_removes_an_earlier_runs_outputs_past_the_new_count_and_nothing_else(scaled_outputs, capsys):
    """An earlier run wrote 5 active outputs of mix.wav; this one finds 2. Without --force it refuses, even
    when only an output past the model's 4 remains; with --force mix_s3..s5 go, and files not named as
    outputs of mix.wav stay."""
    _, mix, d = scaled_outputs
    out = d / "out"
    out.mkdir()
    users = ["mix_s03.wav", "mix_s3.flac", "mix_s6.wav.txt", "mix_notes.wav", "other_s4.wav", "mix2_s1.wav"]
    for name in users:
        (out / name).write_text("the user's")
    (out / "mix_s7.wav").mkdir()  # a folder, not a file this program wrote
    args = ["separate", str(d / "mix.wav"), "--model", str(d / "model.pth"), "-o", str(out), "--active-only"]
    sf.write(out / "mix_s5.wav", np.full(800, 0.5, "float32"), 8000)
    assert main(args) == 2 and "Refusing to overwrite 1 existing file" in capsys.readouterr().err
    for i in range(1, 5):
        sf.write(out / f"mix_s{i}.wav", np.full(800, i / 10, "float32"), 8000)
    assert main(args + ["--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["mix_s1.wav", "mix_s2.wav", "mix_s7.wav", *users])
    for name, gain in (("mix_s1.wav", 0.7), ("mix_s2.wav", 0.3)):  # this run's, not the earlier ones
        np.testing.assert_allclose(sf.read(out / name, dtype="float32")[0], gain * mix, atol=1e-6)
    assert all((out / name).read_text() == "the user's" for name in users)
