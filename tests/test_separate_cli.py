import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask.cli import main
from asteroid_deepmask.separate import n_windows, separate_windows


class SwappingModel(torch.nn.Module):
    """A pointwise two-source 'separator' whose output order depends on the window's content."""

    def forward(self, x):
        out = torch.stack([torch.relu(x), x - torch.relu(x)], 1)
        return out.flip(1) if x.sum() > 0 else out


def test_windows_are_aligned_and_cross_faded():
    wav = torch.randn(10_007)
    model = SwappingModel()
    out = torch.cat(list(separate_windows(model, wav, window=1000, overlap=200)), 1)
    one_shot = SwappingModel()(wav.unsqueeze(0))[0]
    if not torch.allclose(out[:, :200], one_shot[:, :200]):
        one_shot = one_shot.flip(0)
    assert out.shape == one_shot.shape
    torch.testing.assert_close(out, one_shot)  # every overlap region included


def test_window_count_and_short_inputs():
    assert n_windows(500, 1000, 200) == 1 and n_windows(1000, 1000, 200) == 1
    assert n_windows(1001, 1000, 200) == 2 and n_windows(1800, 1000, 200) == 2 and n_windows(1801, 1000, 200) == 3
    out = list(separate_windows(SwappingModel(), torch.randn(300), 1000, 200))
    assert len(out) == 1 and out[0].shape == (2, 300)


@pytest.fixture
def setup(tiny_dprnn, tmp_path):
    model = tiny_dprnn(n_src=2)
    torch.save(model.serialize(), tmp_path / "model.pth")
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "mono.wav", 0.1 * rng.standard_normal(8000).astype("float32"), 8000)
    sf.write(tmp_path / "stereo.wav", 0.1 * rng.standard_normal((4000, 2)).astype("float32"), 8000)
    sf.write(tmp_path / "rate16k.wav", 0.1 * rng.standard_normal(16000).astype("float32"), 16000)
    sf.write(tmp_path / "silence.wav", np.zeros(4000, dtype="float32"), 8000)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return model.eval(), tmp_path


def run(capsys, *argv):
    code = main(["separate", *map(str, argv)])
    return code, capsys.readouterr().err


def test_mono_file_matches_the_model(setup, capsys):
    model, d = setup
    code, _ = run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "out")
    assert code == 0
    est = model(torch.from_numpy(sf.read(d / "mono.wav", dtype="float32")[0]).unsqueeze(0))[0]
    for i in range(2):
        data, rate = sf.read(d / "out" / f"mono_s{i + 1}.wav", dtype="float32")
        assert rate == 8000
        np.testing.assert_allclose(data, est[i].detach().numpy(), atol=1e-5)


def test_stereo_needs_a_choice(setup, capsys):
    _, d = setup
    code, err = run(capsys, d / "stereo.wav", "--model", d / "model.pth", "-o", d / "out")
    assert code == 2 and "--channel N" in err and "--downmix" in err
    code, err = run(capsys, d / "stereo.wav", "--model", d / "model.pth", "-o", d / "out", "--channel", "5")
    assert code == 2 and "--channel 5 does not exist" in err
    for option, name in ((["--channel", "1"], "ch"), (["--downmix"], "mix")):
        code, _ = run(capsys, d / "stereo.wav", "--model", d / "model.pth", "-o", d / name, *option)
        assert code == 0 and sf.info(d / name / "stereo_s2.wav").frames == 4000


def test_other_rates_are_resampled(setup, capsys):
    _, d = setup
    code, _ = run(capsys, d / "rate16k.wav", "--model", d / "model.pth", "-o", d / "out")
    info = sf.info(d / "out" / "rate16k_s1.wav")
    assert code == 0 and info.samplerate == 8000 and info.frames == 8000


def test_long_file_in_windows_and_silence(setup, capsys):
    _, d = setup
    code, _ = run(capsys, d / "mono.wav", d / "silence.wav", "--model", d / "model.pth", "-o", d / "out",
                  "--window", "0.3", "--overlap", "0.05")
    assert code == 0
    for name, frames in (("mono", 8000), ("silence", 4000)):
        data, _ = sf.read(d / "out" / f"{name}_s1.wav")
        assert len(data) == frames and np.isfinite(data).all()


def test_folders_globs_overwrite_and_bad_files(setup, capsys):
    _, d = setup
    (d / "in").mkdir()
    for name in ("a", "b"):
        sf.write(d / "in" / f"{name}.wav", np.zeros(2000, dtype="float32"), 8000)
    code, _ = run(capsys, d / "in", "--model", d / "model.pth", "-o", d / "out")
    assert code == 0 and sorted(p.name for p in (d / "out").iterdir()) == ["a_s1.wav", "a_s2.wav", "b_s1.wav", "b_s2.wav"]
    code, err = run(capsys, str(d / "in" / "*.wav"), "--model", d / "model.pth", "-o", d / "out")
    assert code == 2 and "Refusing to overwrite" in err
    code, _ = run(capsys, str(d / "in" / "*.wav"), "--model", d / "model.pth", "-o", d / "out", "--force")
    assert code == 0
    code, err = run(capsys, d / "corrupt.wav", d / "mono.wav", "--model", d / "model.pth", "-o", d / "new")
    assert code == 2 and "Cannot read" in err and not (d / "new").exists()  # nothing written
    code, err = run(capsys, d / "missing.wav", "--model", d / "model.pth", "-o", d / "new")
    assert code == 2 and "names no audio file" in err
