import importlib

import asteroid.models
import numpy as np
import pytest
import torch

import asteroid_deepmask
from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.masknn import MASK_ACTIVATIONS
from asteroid_deepmask.models import registry
from asteroid_deepmask.models.base import DeepMaskEncoderMaskerDecoder

COMBOS = [
    dict(mask_head="linear"),
    dict(mask_head="linear", n_outputs=4),
    dict(mask_head="linear", n_outputs=8, mask_act="none"),
    dict(mask_head="mlp", head_hidden=4),
    dict(mask_head="mlp", head_hidden=4, n_outputs=4, mask_act="glu"),
] + [dict(mask_head="linear", n_outputs=4, mask_act=act) for act in MASK_ACTIVATIONS]


@pytest.mark.parametrize("kwargs", COMBOS)
def test_model_shapes(tiny_dprnn, kwargs):
    model = tiny_dprnn(**kwargs)
    p = model.masker.n_outputs
    assert model(torch.randn(3, 401)).shape == (3, 2, 401)
    assert model(torch.randn(3, 1, 401)).shape == (3, 2, 401)
    assert model(torch.randn(401)).shape == (2, 401)
    assert model.forward_outputs(torch.randn(3, 401)).shape == (3, p, 401)


def test_three_sources(tiny_dprnn):
    model = tiny_dprnn(n_src=3, n_outputs=6, mask_head="mlp", head_hidden=4)
    assert model(torch.randn(2, 300)).shape == (2, 3, 300)


@pytest.mark.parametrize("kwargs", [dict(n_outputs=8), dict(mask_head="mlp", n_outputs=4)])
def test_grouped_waveforms_equal_forward(tiny_dprnn, kwargs):
    model = tiny_dprnn(**kwargs).eval()
    wav = torch.randn(2, 400)
    outputs = model.forward_outputs(wav)
    grouped = outputs.reshape(2, 2, -1, 400).sum(2)
    torch.testing.assert_close(grouped, model(wav), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs", COMBOS[:5] + [dict(mask_act="prelu", n_outputs=4)])
def test_gradients_reach_every_parameter(tiny_dprnn, kwargs):
    model = tiny_dprnn(**kwargs)
    est = model(torch.randn(2, 400))
    (est - torch.randn_like(est)).pow(2).mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("shared_head", [True, False])
def test_identity_overseparation_model_equals_merged_baseline(tiny_dprnn, shared_head):
    """Eq. (2) through the whole masker: P = 8 with f = identity is a P = 2 model in disguise.

    The trunk's last 1x1 conv, the overlap-add and the per-output 1x1 convs are all linear, so
    the P = 8 model folds into a P = 2 model whose output conv is the product of the two.
    """
    big = tiny_dprnn(n_outputs=8, mask_act="none", shared_head=shared_head).eval()
    small = tiny_dprnn(n_outputs=2, mask_act="none", shared_head=shared_head).eval()
    small_copies = 1 if shared_head else 2
    small.load_state_dict(
        {k: v for k, v in big.state_dict().items() if "dual_path.output.1" not in k and "head" not in k}, strict=False
    )
    bn, n, group = 16, 16, 4
    w_trunk = big.masker.trunk.dual_path.output[1].weight.reshape(8, bn, bn)
    b_trunk = big.masker.trunk.dual_path.output[1].bias.reshape(8, bn)
    w_head = big.masker.head.layers.weight.reshape(-1, n, bn).expand(8, -1, -1)
    b_head = big.masker.head.layers.bias.reshape(-1, n).expand(8, -1)
    with torch.no_grad():
        small.masker.trunk.dual_path.output[0].weight.copy_(big.masker.trunk.dual_path.output[0].weight)
        merged_w = torch.einsum("pnh,phi->pni", w_head, w_trunk).reshape(2, group, n, bn).sum(1)
        merged_b = torch.einsum("pnh,ph->pn", w_head, b_trunk).reshape(2, group, n).sum(1)
        small.masker.trunk.dual_path.output[1].weight.copy_(merged_w.reshape(2 * n, bn, 1, 1))
        small.masker.trunk.dual_path.output[1].bias.copy_(merged_b.reshape(-1))
        small.masker.head.layers.weight.copy_(torch.eye(n).reshape(n, n, 1).repeat(small_copies, 1, 1))
        small.masker.head.layers.bias.copy_(b_head.reshape(2, group, n).sum(1)[:small_copies].reshape(-1))
    wav = torch.randn(2, 640)
    torch.testing.assert_close(small(wav), big(wav), rtol=1e-4, atol=1e-4)


def test_config_round_trip(tiny_dprnn):
    model = tiny_dprnn(mask_head="mlp", head_hidden=5, n_outputs=4, mask_act="sigmoid", num_layers=2, dropout=0.1)
    args = model.get_model_args()
    again = DPRNNDeepMask(**args)
    assert again.get_model_args() == args
    assert {k: v.shape for k, v in again.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }
    assert args["n_outputs"] == 4 and args["hop_size"] is None and args["sample_rate"] == 8000
    assert model.masker.trunk.dual_path.hop_size == 5  # None: half the chunk
    masker_conf = model.masker.get_config()
    assert type(model.masker).from_config(masker_conf).get_config() == masker_conf


@pytest.fixture
def saved(tiny_dprnn, tmp_path):
    model = tiny_dprnn(mask_head="mlp", head_hidden=4, n_outputs=4).eval()
    path = tmp_path / "model.pth"
    torch.save(model.serialize(), path)
    return model, path


def test_save_load_identical_outputs(saved):
    model, path = saved
    wav = torch.randn(2, 480)
    for loader in (DPRNNDeepMask, DeepMaskEncoderMaskerDecoder, asteroid.models.BaseModel):
        loaded = loader.from_pretrained(str(path)).eval()
        assert type(loaded) is DPRNNDeepMask
        assert torch.equal(loaded(wav), model(wav)), loader
    # Plain types only: torch's weights-only loader reads the whole package.
    conf = torch.load(path, weights_only=True)
    assert conf["model_name"] == "DPRNNDeepMask" and isinstance(conf["infos"]["software_versions"]["torch_version"], str)


def test_from_pretrained_kwargs_override(saved):
    _, path = saved
    assert DPRNNDeepMask.from_pretrained(path, hop_size=4).masker.trunk.dual_path.hop_size == 4


def test_corrupt_truncated_and_untrusted_checkpoints(saved, tmp_path):
    _, path = saved
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        DPRNNDeepMask.from_pretrained(truncated)
    untrusted = tmp_path / "untrusted.pth"
    torch.save({"model_name": "DPRNNDeepMask", "payload": Exploit()}, untrusted)
    with pytest.raises(ValueError, match="Refusing to load"):
        DPRNNDeepMask.from_pretrained(untrusted)
    assert not Exploit.ran
    with pytest.raises(FileNotFoundError, match="No model file"):
        DPRNNDeepMask.from_pretrained(tmp_path / "missing.pth")


class Exploit:
    ran = False

    def __reduce__(self):
        return (setattr, (Exploit, "ran", True))


def test_loading_another_class_names_it(saved):
    model, _ = saved
    conf = model.serialize()
    conf["model_name"] = "ConvTasNet"
    with pytest.raises(ValueError, match="holds a ConvTasNet, not a DPRNNDeepMask"):
        DPRNNDeepMask.from_pretrained(conf)
    with pytest.raises(ValueError, match="keys \\['state_dict'\\] are missing"):
        DPRNNDeepMask.from_pretrained({"model_name": "DPRNNDeepMask", "model_args": {}})


def test_registration_is_idempotent():
    assert asteroid.models.get("DPRNNDeepMask") is DPRNNDeepMask
    assert asteroid.models.get("dprnndeepmask") is DPRNNDeepMask
    registry.register_model(DPRNNDeepMask)  # a second registration is harmless
    importlib.reload(importlib.import_module("asteroid_deepmask.models.dprnn_deepmask"))
    reloaded = asteroid.models.get("DPRNNDeepMask")
    assert reloaded.__module__ == DPRNNDeepMask.__module__
    importlib.reload(asteroid_deepmask)  # importing the package again is harmless too
    registry.register_model(DPRNNDeepMask)  # restore the class the other tests use
    assert asteroid.models.get("DPRNNDeepMask") is DPRNNDeepMask


def test_registration_refuses_to_shadow_asteroid_models():
    impostor = type("DPRNNTasNet", (DeepMaskEncoderMaskerDecoder,), {})
    with pytest.raises(ValueError, match="already has a model named 'DPRNNTasNet'"):
        registry.register_model(impostor)


@pytest.mark.parametrize(
    "wav,match",
    [
        (torch.randn(1, 1, 1, 400), "got 4 dimensions"),
        (torch.randn(2, 2, 400), "got 2 channels.*downmix"),
        (torch.randn(1, 10), "10 samples, shorter than the encoder kernel \\(16 samples"),
        ([0.0] * 400, "expects a torch.Tensor"),
    ],
)
def test_bad_waveforms(tiny_dprnn, wav, match):
    model = tiny_dprnn()
    with pytest.raises(ValueError, match=match):
        model(wav)
    with pytest.raises(ValueError, match=match):
        model.forward_outputs(wav)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n_outputs=3), "n_outputs=3 cannot be grouped into n_src=2"),
        (dict(mask_head="deep"), "mask_head='deep'"),
        (dict(mask_act="tanh"), "mask_act='tanh'"),
        (dict(mask_head="mlp", head_hidden=0), "hidden must be an integer >= 1"),
        (dict(hop_size=20), "hop_size=20 is larger than chunk_size=10"),
        (dict(rnn_type="transformer"), "rnn_type='transformer'"),
    ],
)
def test_bad_model_arguments(tiny_dprnn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny_dprnn(**kwargs)


def test_paper_defaults():
    model = DPRNNDeepMask(n_src=2)
    args = model.get_model_args()
    assert (args["n_filters"], args["kernel_size"], args["bn_chan"], args["hid_size"], args["n_repeats"]) == (
        64, 16, 64, 128, 6,
    )
    assert not any(isinstance(m, (torch.nn.Tanh, torch.nn.Sigmoid)) for m in model.modules())


def _zip_of_text(path):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")


NOT_MODELS = {
    "notes.txt": b"not a checkpoint at all\n",
    "README.md": b"# A model card\n\nSome text.\n",
    "config.json": b'{"model_name": "DPRNNDeepMask", "model_args": {}}',
    "picture.png": b"\x89PNG\r\n\x1a\n" + bytes(100),
    "random.bin": bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
    "empty.pth": b"",
}


@pytest.mark.parametrize("name", [*NOT_MODELS, "archive.zip"])
def test_files_that_are_not_models_are_named(name, tmp_path, capsys):
    from asteroid_deepmask.cli import main

    path = tmp_path / name
    _zip_of_text(path) if name == "archive.zip" else path.write_bytes(NOT_MODELS[name])
    expected = "is a zip archive but not a torch checkpoint" if name == "archive.zip" else "is not a model file"
    with pytest.raises(ValueError, match=expected):
        DPRNNDeepMask.from_pretrained(path)
    with pytest.raises(ValueError, match=expected):
        DeepMaskEncoderMaskerDecoder.from_pretrained(str(path))
    assert main(["separate", str(path), "--model", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert name in err and expected in err and not (tmp_path / "out").exists()
