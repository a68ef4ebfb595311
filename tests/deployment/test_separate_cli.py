import os

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask.cli import main
from asteroid_deepmask.deployment.long_files import n_windows, separate_windows


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


def si_sdr_db(reference, estimate):
    reference, estimate = np.asarray(reference, "float64").ravel(), np.asarray(estimate, "float64").ravel()
    target = reference * (estimate @ reference) / (reference @ reference)
    return 10 * np.log10((target @ target) / ((estimate - target) @ (estimate - target)))


def read_sources(folder, stem="mono", n_src=2):
    return np.stack([sf.read(folder / f"{stem}_s{i + 1}.wav", dtype="float32")[0] for i in range(n_src)])


def export(capsys, *argv):
    code = main(["export", *map(str, argv)])
    return code, capsys.readouterr()


def test_exported_models_separate_like_the_torch_model(setup, capsys):
    _, d = setup
    for name, extra in (("model.onnx", []), ("model.pt", []), ("model.ts", ["--format", "torchscript"])):
        code, out = export(capsys, "--model", d / "model.pth", "-o", d / name, *extra)
        assert code == 0 and "Exported DPRNNDeepMask" in out.out
    code, out = export(capsys, "--model", d / "model.pth", "-o", d / "model.onnx")
    assert code == 2 and "Refusing to overwrite" in out.err
    code, out = export(capsys, "--model", d / "model.pth", "-o", d / "nowhere" / "m.onnx")
    assert code == 2 and "does not exist" in out.err
    window = ["--window", "0.3", "--overlap", "0.05"]
    assert run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "torch", *window)[0] == 0
    expected = read_sources(d / "torch")
    for name in ("model.onnx", "model.pt", "model.ts"):
        code, _ = run(capsys, d / "mono.wav", "--model", d / name, "-o", d / name.replace(".", "_"), *window,
                      "--batch-size", "4")
        assert code == 0
        np.testing.assert_allclose(read_sources(d / name.replace(".", "_")), expected, atol=1e-4, rtol=0)


def test_batched_windows_and_bf16(setup, capsys):
    _, d = setup
    window = ["--window", "0.3", "--overlap", "0.05"]
    assert run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "b1", *window)[0] == 0
    assert run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "b5", *window, "--batch-size", "5")[0] == 0
    np.testing.assert_allclose(read_sources(d / "b5"), read_sources(d / "b1"), atol=1e-5, rtol=0)
    assert run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "bf16", "--precision", "bf16")[0] == 0
    assert run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "f32")[0] == 0
    full, half = read_sources(d / "f32"), read_sources(d / "bf16")
    assert not np.array_equal(full, half)  # autocast really ran in bfloat16
    assert min(si_sdr_db(f, h) for f, h in zip(full, half)) > 20
    code, err = run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "x", "--batch-size", "0")
    assert code == 2 and "--batch-size 0" in err and not (d / "x").exists()


def test_bf16_on_a_cpu_without_bf16_kernels_warns_in_one_line(setup, capsys, monkeypatch):
    import warnings

    from asteroid_deepmask.deployment.separators import check_precision
    from asteroid_deepmask.utils import cpu_bf16

    monkeypatch.setattr(cpu_bf16, "cpu_has_bf16", lambda: False)
    _, d = setup
    code, err = run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "bf16", "--precision", "bf16")
    assert code == 0 and len(list((d / "bf16").glob("*.wav"))) == 2
    lines = [line for line in err.splitlines() if "warning" in line]
    assert len(lines) == 1 and lines[0].startswith("asteroid-deepmask separate: warning: this CPU has no bfloat16 "
                                                   "kernels") and "--precision 32" in lines[0]
    assert not [line for line in run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "f32")[1].splitlines()
                if "warning" in line]
    monkeypatch.setattr(cpu_bf16, "cpu_has_bf16", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_precision("bf16", "cpu")  # a CPU with bfloat16 kernels: nothing to say


def test_onnx_backend_refuses_bf16_and_foreign_files(setup, capsys):
    _, d = setup
    assert export(capsys, "--model", d / "model.pth", "-o", d / "model.onnx")[0] == 0
    code, err = run(capsys, d / "mono.wav", "--model", d / "model.onnx", "-o", d / "x", "--precision", "bf16")
    assert code == 2 and "runs in the precision it was exported in (float32)" in err
    (d / "notes.onnx").write_text("not a model")
    code, err = run(capsys, d / "mono.wav", "--model", d / "notes.onnx", "-o", d / "x")
    assert code == 2 and "Cannot read" in err and "notes.onnx" in err
    assert not (d / "x").exists()


def test_too_short_inputs_are_refused_before_writing(setup, capsys):
    _, d = setup
    sf.write(d / "tiny.wav", np.zeros(10, dtype="float32"), 8000)
    code, err = run(capsys, d / "mono.wav", d / "tiny.wav", "--model", d / "model.pth", "-o", d / "out")
    assert code == 2 and "tiny.wav" in err and "too short" in err and not (d / "out").exists()


def test_windows_of_a_real_model_are_cross_faded(tiny_dprnn):
    """Each overlap holds (1 - r) * previous window + r * next window with r rising from 0 to 1, and
    the rest of each window is that window's own separation: reversed ramps or a hard cut fail."""
    from itertools import permutations

    from asteroid_deepmask.deployment.separators import TorchSeparator

    torch.manual_seed(0)
    model = tiny_dprnn().eval()
    window, overlap, n = 2000, 400, 6500
    hop = window - overlap
    wav = torch.randn(n)
    padded = torch.nn.functional.pad(wav, (0, n_windows(n, window, overlap) * hop + overlap - n))
    with torch.no_grad():
        own = [model(padded[k * hop : k * hop + window].unsqueeze(0))[0] for k in range(n_windows(n, window, overlap))]
    ramp = torch.linspace(0, 1, overlap + 2)[1:-1]
    separator = TorchSeparator.from_model(model)
    for batch_size in (1, 3):
        out = torch.cat(list(separate_windows(separator, wav, window, overlap, batch_size=batch_size)), 1)
        assert out.shape == (2, n)
        placed = []
        for k, est in enumerate(own):  # the order each window's sources were written in
            inner = slice(k * hop + overlap, min(k * hop + window - overlap, n))
            perm = min(permutations(range(2)), key=lambda p: (out[:, inner] - est[list(p)][:, inner.start - k * hop:
                                                                                        inner.stop - k * hop]).abs().max())
            placed.append(est[list(perm)])
            torch.testing.assert_close(out[:, inner], placed[k][:, inner.start - k * hop : inner.stop - k * hop])
        for k in range(1, len(own)):
            start = k * hop
            stop = min(start + overlap, n)
            faded = placed[k - 1][:, hop : hop + overlap] * (1 - ramp) + placed[k][:, :overlap] * ramp
            torch.testing.assert_close(out[:, start:stop], faded[:, : stop - start], atol=1e-5, rtol=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused_before_writing(setup, capsys, bad):
    _, d = setup
    data = 0.1 * np.ones(4000, dtype="float32")
    data[1234] = bad
    sf.write(d / "broken.wav", data, 8000, subtype="FLOAT")
    code, err = run(capsys, d / "mono.wav", d / "broken.wav", "--model", d / "model.pth", "-o", d / "out")
    assert code == 2 and "broken.wav" in err and "non-finite" in err and "sample 1234" in err
    assert not (d / "out").exists()


def test_unwritable_output_folders_are_refused_before_writing(setup, capsys, monkeypatch):
    _, d = setup
    (d / "file").write_text("x")
    code, err = run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "file" / "out")
    assert code == 2 and "is a file, not a folder" in err
    (d / "locked").mkdir()
    real_access = os.access  # tests run as root, who may write anywhere: deny this one folder
    monkeypatch.setattr(os, "access", lambda p, mode: os.path.abspath(p) != str(d / "locked") and real_access(p, mode))
    code, err = run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "locked" / "out")
    assert code == 2 and "not writable" in err and os.listdir(d / "locked") == []


def test_channels_are_read_from_disk_window_by_window(setup, capsys):
    _, d = setup
    stereo = np.stack([np.random.default_rng(1).standard_normal(9000), np.random.default_rng(2).standard_normal(9000)], 1)
    sf.write(d / "long_stereo.wav", 0.1 * stereo.astype("float32"), 8000, subtype="FLOAT")
    sf.write(d / "long.wav", 0.1 * stereo[:, 1].astype("float32"), 8000, subtype="FLOAT")
    sf.write(d / "long_mix.wav", (0.1 * stereo.astype("float32")).mean(1), 8000, subtype="FLOAT")
    window = ["--window", "0.3", "--overlap", "0.05", "--batch-size", "2"]
    assert run(capsys, d / "long_stereo.wav", "--model", d / "model.pth", "-o", d / "ch1", "--channel", "1", *window)[0] == 0
    assert run(capsys, d / "long.wav", d / "long_mix.wav", "--model", d / "model.pth", "-o", d / "mono", *window)[0] == 0
    np.testing.assert_allclose(read_sources(d / "ch1", "long_stereo"), read_sources(d / "mono", "long"), atol=1e-6)
    assert run(capsys, d / "long_stereo.wav", "--model", d / "model.pth", "-o", d / "dm", "--downmix", *window)[0] == 0
    np.testing.assert_allclose(read_sources(d / "dm", "long_stereo"), read_sources(d / "mono", "long_mix"), atol=1e-5)


def test_the_library_function_is_the_command(setup, capsys):
    from asteroid_deepmask.deployment.long_files import separate_file, separate_files
    from asteroid_deepmask.deployment.separators import Separator, load_separator

    model, d = setup
    assert run(capsys, d / "mono.wav", "--model", d / "model.pth", "-o", d / "cli")[0] == 0
    written = separate_files(model, [str(d / "mono.wav")], str(d / "lib"))
    assert written == {str(d / "mono.wav"): [str(d / "lib" / "mono_s1.wav"), str(d / "lib" / "mono_s2.wav")]}
    np.testing.assert_array_equal(read_sources(d / "lib"), read_sources(d / "cli"))
    with pytest.raises(ValueError, match="Refusing to overwrite 2 existing file"):
        separate_file(model, str(d / "mono.wav"), str(d / "lib"))  # no longer overwrites in silence
    separator = load_separator(str(d / "model.pth"))
    assert isinstance(separator, Separator) and load_separator(separator) is separator
    assert separate_file(separator, str(d / "mono.wav"), str(d / "lib"), force=True) == written[str(d / "mono.wav")]
    with pytest.raises(ValueError, match="--channel and --downmix exclude each other"):
        separate_files(separator, [str(d / "stereo.wav")], str(d / "x"), channel=0, downmix=True)
    assert not (d / "x").exists()
