import glob
import os

import numpy as np
import pytest
import soundfile as sf
import torch
from hyperpyyaml import load_hyperpyyaml
from speechbrain.inference.separation import SepformerSeparation
from speechbrain.lobes.models.dual_path import SBRNNBlock, SBTransformerBlock

from asteroid_deepmask import ConvTasNetDeepMask, SimoSisoTasNet
from asteroid_deepmask.experiment.hparams import hparams_dir
from asteroid_deepmask.speechbrain import DualPathDeepMask, MaskNet, export_model_to_speechbrain, export_speechbrain
from asteroid_deepmask.speechbrain.train import main as train_main

SB_FILES = sorted(glob.glob(os.path.join(hparams_dir(), "speechbrain", "*.yaml")))


def load(path, tmp_path, **overrides):
    with open(path) as f:
        return load_hyperpyyaml(f, {"data_folder": str(tmp_path / "data"), "output_folder": str(tmp_path / "out"), **overrides})


@pytest.mark.parametrize("path", SB_FILES, ids=os.path.basename)
def test_hparams_files_load_and_follow_the_contract(path, tmp_path):
    hp = load(path, tmp_path)
    for key in ("Encoder", "MaskNet", "Decoder", "modules", "checkpointer", "optimizer", "loss", "lr_scheduler",
                "epoch_counter", "train_logger", "dataloader_opts", "train_data", "valid_data", "test_data",
                "num_spks", "sample_rate", "clip_grad_norm", "threshold_byloss", "use_speedperturb", "use_wavedrop"):
        assert key in hp, key
    mix = torch.randn(2, 1200)
    mix_w = hp["Encoder"](mix)
    masks = hp["MaskNet"](mix_w)
    assert masks.shape == (hp["num_spks"], *mix_w.shape)
    assert hp["Decoder"](mix_w * masks[0]).shape[0] == 2


def test_a_broken_reference_names_the_missing_class(tmp_path):
    text = open(SB_FILES[0]).read().replace("asteroid_deepmask.speechbrain.MaskNet", "asteroid_deepmask.speechbrain.NoSuchNet")
    with pytest.raises(ImportError, match="asteroid_deepmask.speechbrain.NoSuchNet"):
        load_hyperpyyaml(text, {"data_folder": str(tmp_path)})


@pytest.mark.parametrize(
    "trunk,trunk_args",
    [
        ("dprnn", dict(hid_size=8, n_repeats=1, bn_chan=16, chunk_size=10)),
        ("simo_siso", dict(n_simo=1, n_siso=1, hid_size=8, bn_chan=16, chunk_size=10)),
        ("sliced_attention", dict(embed_chan=4, n_blocks=1, slice_len=8)),
        ("tcn", dict(n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8)),
    ],
)
def test_masknet_adapters(trunk, trunk_args):
    net = MaskNet(16, n_src=2, trunk=trunk, trunk_args=trunk_args, head="mlp", head_args=dict(hidden=4), n_outputs=4)
    x = torch.randn(3, 16, 40)
    assert net(x).shape == (2, 3, 16, 40) and net.forward_outputs(x).shape == (4, 3, 16, 40)
    with pytest.raises(ValueError, match="trunk='Conv'"):
        MaskNet(16, n_src=2, trunk="Conv")


@pytest.mark.parametrize(
    "block",
    [
        lambda: SBRNNBlock(8, 4, num_layers=1),
        lambda: SBTransformerBlock(num_layers=1, d_model=8, nhead=2, d_ffn=16),
    ],
)
def test_dual_path_model_with_our_head(block):
    net = DualPathDeepMask(block(), block(), in_channels=16, out_channels=8, K=10, n_src=2, n_outputs=4)
    x = torch.randn(2, 16, 45)
    masks = net(x)
    assert masks.shape == (2, 2, 16, 45) and net.forward_outputs(x).shape == (4, 2, 16, 45)
    masks.sum().backward()
    for name, param in net.named_parameters():  # the removed gate left no dead parameters
        assert param.grad is not None, name


def test_export_of_our_model_loads_in_speechbrain(tiny_dprnn, tmp_path):
    for model in (tiny_dprnn(n_src=2, n_outputs=4, mask_head="mlp"),
                  SimoSisoTasNet(n_src=2, n_simo=1, n_siso=1, n_filters=16, bn_chan=16, hid_size=8, chunk_size=10),
                  ConvTasNetDeepMask(n_src=2, n_outputs=4, n_filters=16, n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8)):
        folder = tmp_path / type(model).__name__
        export_model_to_speechbrain(model.eval(), folder)
        separator = SepformerSeparation.from_hparams(
            source=str(folder), savedir=str(tmp_path / "saved" / folder.name), run_opts={"device": "cpu"}
        )
        mix = torch.randn(2, 1000)
        torch.testing.assert_close(separator.separate_batch(mix), model(mix).transpose(1, 2))
        with pytest.raises(ValueError, match="already holds an export"):
            export_model_to_speechbrain(model, folder)


@pytest.mark.parametrize("fb_name", ["free", "stft", "analytic_free", "param_sinc", "torch_stft"])
@pytest.mark.parametrize("encoder_activation", [None, "relu"])
def test_export_keeps_every_filterbank_and_encoder_activation(fb_name, encoder_activation, tiny_dprnn, tmp_path):
    torch.manual_seed(0)
    model = tiny_dprnn(fb_name=fb_name, encoder_activation=encoder_activation).eval()
    for p in model.encoder.parameters():  # so that a dropped activation changes the output
        p.data.add_(0.1 * torch.randn_like(p))
    export_model_to_speechbrain(model, tmp_path / "export")
    separator = SepformerSeparation.from_hparams(source=str(tmp_path / "export"), savedir=str(tmp_path / "saved"),
                                                 run_opts={"device": "cpu"})
    mix = torch.randn(2, 1600)
    with torch.no_grad():
        expected = model(mix).transpose(1, 2)
    torch.testing.assert_close(separator.separate_batch(mix), expected, atol=1e-5, rtol=1e-4)


def make_wsj0_mix(root, sizes=(("tr", 2), ("cv", 1), ("tt", 1))):
    rng = np.random.default_rng(0)
    for split, n in sizes:
        for i in range(n):
            s1, s2 = 0.1 * rng.standard_normal(1600), 0.1 * rng.standard_normal(1600)
            for name, x in (("s1", s1), ("s2", s2), ("mix", s1 + s2)):
                os.makedirs(root / "wav8k" / "min" / split / name, exist_ok=True)
                sf.write(root / "wav8k" / "min" / split / name / f"u{i}.wav", x.astype("float32"), 8000)


def test_brain_trains_resumes_and_exports(tmp_path):
    make_wsj0_mix(tmp_path / "data")
    path = os.path.join(hparams_dir(), "speechbrain", "dprnn_p16.yaml")
    args = [path, "--data_folder", str(tmp_path / "data"), "--output_folder", str(tmp_path / "out"),
            "--batch_size", "2", "--device", "cpu", "--noprogressbar"]
    train_main(args + ["--N_epochs", "1"])
    log = (tmp_path / "out" / "train_log.txt").read_text()
    assert "epoch: 1" in log and "test loss" in log
    brain = train_main(args + ["--N_epochs", "2"])  # resumes after epoch 1
    log = (tmp_path / "out" / "train_log.txt").read_text()
    assert log.count("epoch: 1,") == 1 and "epoch: 2," in log
    folder = export_speechbrain(path, brain.modules, tmp_path / "export")
    separator = SepformerSeparation.from_hparams(source=str(folder), savedir=str(tmp_path / "saved"), run_opts={"device": "cpu"})
    mix = torch.randn(1, 1600)
    modules = brain.modules.eval()
    with torch.no_grad():
        mix_w = modules.encoder(mix)
        expected = torch.stack([modules.decoder(mix_w * mask) for mask in modules.masknet(mix_w)], -1)
    torch.testing.assert_close(separator.separate_batch(mix), expected)


def test_missing_data_folder_says_which_option(tmp_path):
    path = os.path.join(hparams_dir(), "speechbrain", "dprnn_baseline.yaml")
    with pytest.raises(FileNotFoundError, match="set --data_folder to a wsj0-mix folder"):
        train_main([path, "--data_folder", str(tmp_path / "nowhere"), "--output_folder", str(tmp_path / "out")])


def test_the_0_1_0_name_export_model_warns_and_writes_the_same_folder(tiny_dprnn, tmp_path):
    import asteroid_deepmask.speechbrain as sb

    model = tiny_dprnn(n_src=2).eval()
    with pytest.warns(DeprecationWarning, match="speechbrain.export_model is now export_model_to_speechbrain"):
        from asteroid_deepmask.speechbrain import export_model
    assert export_model is export_model_to_speechbrain
    old, new = export_model(model, tmp_path / "old"), export_model_to_speechbrain(model, tmp_path / "new")
    assert sorted(os.listdir(old)) == sorted(os.listdir(new))
    for name in os.listdir(new):
        if name.endswith(".ckpt"):
            a, b = (torch.load(os.path.join(f, name), weights_only=True) for f in (old, new))
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        else:
            assert open(os.path.join(old, name)).read() == open(os.path.join(new, name)).read()
    with pytest.raises(AttributeError, match="has no attribute 'export_nothing'"):
        sb.export_nothing


def test_a_failed_export_leaves_the_previous_folder_whole(tiny_dprnn, tmp_path, monkeypatch):
    folder = export_model_to_speechbrain(tiny_dprnn(n_src=2), tmp_path / "export")
    before = {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}
    save = torch.save

    def killed_at_the_decoder(obj, path, *args, **kwargs):
        if "decoder" in os.fspath(path):
            raise KeyboardInterrupt
        save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", killed_at_the_decoder)
    with pytest.raises(KeyboardInterrupt):
        export_model_to_speechbrain(tiny_dprnn(n_src=3), folder, force=True)
    assert {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)} == before
