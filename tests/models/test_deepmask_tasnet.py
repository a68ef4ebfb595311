"""The general model, its presets, Conv-TasNet with our heads, and models written by 0.1.0."""
import glob
import inspect
import os

import asteroid.models
import pytest
import torch
from asteroid.masknn.convolutional import TDConvNet
from safetensors.torch import load_file

from asteroid_deepmask import ConvTasNetDeepMask, DeepMaskTasNet, DPRNNDeepMask, SimoSisoTasNet, SlicedAttentionTasNet
from asteroid_deepmask.masknn import TRUNKS, TCNTrunk
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder, build_model
from asteroid_deepmask.models.pretrained import check_plain

FIXTURES = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures", "v0_1_0")
TCN_TINY = dict(n_filters=16, n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=16, skip_chan=8)
DPRNN_TRUNK = dict(bn_chan=16, hid_size=8, chunk_size=10, n_repeats=1)


@pytest.mark.parametrize("name", sorted(os.path.basename(p)[: -len("_io.safetensors")]
                                        for p in glob.glob(os.path.join(FIXTURES, "*_io.safetensors"))))
def test_models_written_by_0_1_0_load_and_give_identical_outputs(name):
    # Up to float rounding: DPRNN's projection now runs after overlap-add (the same function).
    io = load_file(os.path.join(FIXTURES, f"{name}_io.safetensors"))
    for source in (f"{name}.pth", f"{name}_hub"):
        model = DeepMaskEncoderMaskerDecoder.from_pretrained(os.path.join(FIXTURES, source)).eval()
        with torch.no_grad():
            torch.testing.assert_close(model(io["mix"]), io["est"], rtol=1e-5, atol=1e-5)
    model = asteroid.models.BaseModel.from_pretrained(os.path.join(FIXTURES, f"{name}.pth")).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(io["mix"]), io["est"], rtol=1e-5, atol=1e-5)


def test_a_preset_is_the_general_model_with_flat_arguments():
    flat = DPRNNDeepMask(n_src=2, n_outputs=4, mask_head="mlp", head_hidden=8, n_filters=16, **DPRNN_TRUNK).eval()
    general = DeepMaskTasNet(n_src=2, trunk="dprnn", trunk_args=DPRNN_TRUNK, head="mlp", head_args=dict(hidden=8),
                             n_outputs=4, n_filters=16).eval()
    general.load_state_dict(flat.state_dict())
    wav = torch.randn(2, 500)
    torch.testing.assert_close(general(wav), flat(wav), rtol=0, atol=0)
    assert flat.get_model_args()["bn_chan"] == 16 and "trunk_args" not in flat.get_model_args()
    for model in (flat, general):
        args = model.get_model_args()
        check_plain(args, "model_args")
        assert type(model)(**args).get_model_args() == args


def test_general_models_save_and_load(tmp_path):
    model = DeepMaskTasNet(n_src=3, trunk="tcn", trunk_args={k: v for k, v in TCN_TINY.items() if k != "n_filters"},
                           head="linear", head_args=dict(mask_act="softmax"), n_outputs=6, n_filters=16).eval()
    torch.save(model.serialize(), tmp_path / "model.pth")
    wav = torch.randn(1, 600)
    for loader in (DeepMaskTasNet, asteroid.models.BaseModel, DeepMaskEncoderMaskerDecoder):
        torch.testing.assert_close(loader.from_pretrained(str(tmp_path / "model.pth")).eval()(wav), model(wav))


PRESET_TRUNKS = {DPRNNDeepMask: "dprnn", ConvTasNetDeepMask: "tcn", SimoSisoTasNet: "simo_siso",
                 SlicedAttentionTasNet: "sliced_attention"}


@pytest.mark.parametrize("preset", list(PRESET_TRUNKS), ids=lambda cls: cls.__name__)
def test_preset_signatures_are_written_out_and_mirror_their_trunk(preset):
    """n_src, the head's flat arguments, every argument of the trunk with its default, the filterbank's,
    mixture_consistency, **fb_kwargs."""
    params = inspect.signature(preset).parameters
    assert "__signature__" not in vars(preset)  # the source's own signature, as editors read it
    trunk = {name: p.default for name, p in inspect.signature(TRUNKS.get(PRESET_TRUNKS[preset])).parameters.items()
             if name not in TRUNKS.model_args}
    head = ["n_outputs", "mask_head", "head_hidden", "shared_head", "mask_act"]
    filterbank = ["fb_name", "kernel_size", "n_filters", "stride", "encoder_activation", "sample_rate"]
    assert list(params) == ["n_src", *head, *trunk, *filterbank, "mixture_consistency", "fb_kwargs"]
    assert {name: params[name].default for name in trunk} == trunk
    conv_tasnet = preset is ConvTasNetDeepMask  # Asteroid's ConvTasNet defaults
    assert (params["mask_act"].default, params["n_filters"].default) == (("sigmoid", 512) if conv_tasnet else ("relu", 64))
    model = preset(2, n_filters=16, **TINY_TRUNK_ARGS[preset])
    assert list(model.get_model_args()) == [*params][:-2]  # flat, every default filled in; no projection: unrecorded
    assert preset(**model.get_model_args()).get_model_args() == model.get_model_args()


TINY_TRUNK_ARGS = {DPRNNDeepMask: DPRNN_TRUNK, ConvTasNetDeepMask: {k: v for k, v in TCN_TINY.items() if k != "n_filters"},
                   SimoSisoTasNet: dict(n_simo=1, n_siso=1, bn_chan=8, hid_size=4, chunk_size=10),
                   SlicedAttentionTasNet: dict(embed_chan=4, n_blocks=1, slice_len=8)}


@pytest.mark.parametrize("preset", list(PRESET_TRUNKS), ids=lambda cls: cls.__name__)
def test_forward_outputs_are_the_outputs_that_forward_groups(preset):
    model = preset(2, n_outputs=4, n_filters=16, **TINY_TRUNK_ARGS[preset]).eval()
    wav = torch.randn(2, 700)
    with torch.no_grad():
        outputs = model.forward_outputs(wav)
        assert outputs.shape == (2, 4, 700) and model.forward_outputs(wav[0]).shape == (4, 700)
        torch.testing.assert_close(outputs.unflatten(1, (2, 2)).sum(2), model(wav), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(model.forward_outputs(wav[:1, None]), outputs[:1], rtol=1e-5, atol=1e-6)
    assert not hasattr(model, "_ungrouped")


def test_forward_outputs_goes_through_asteroids_hooks():
    class Louder(DPRNNDeepMask):
        def apply_masks(self, tf_rep, est_masks):
            return 2 * super().apply_masks(tf_rep, est_masks)

    model = DPRNNDeepMask(2, n_outputs=4, n_filters=16, **DPRNN_TRUNK).eval()
    louder = Louder(2, n_outputs=4, n_filters=16, **DPRNN_TRUNK).eval()
    louder.load_state_dict(model.state_dict())
    wav = torch.randn(1, 500)
    with torch.no_grad():
        torch.testing.assert_close(louder.forward_outputs(wav), 2 * model.forward_outputs(wav), rtol=1e-5, atol=1e-6)


def test_conv_tasnet_defaults_are_asteroids():
    ours, theirs = ConvTasNetDeepMask(n_src=2), asteroid.models.ConvTasNet(n_src=2)
    assert ours.get_model_args()["mask_act"] == theirs.masker.mask_act == "sigmoid"
    for key in ("n_filters", "kernel_size", "stride", "n_blocks", "n_repeats", "bn_chan", "hid_chan", "skip_chan",
                "conv_kernel_size", "norm_type", "causal", "sample_rate"):
        assert ours.get_model_args()[key] == theirs.get_model_args()[key], key


@pytest.mark.parametrize("causal,skip_chan", [(False, 8), (True, 8), (False, 0)])
def test_tcn_trunk_is_asteroids_tdconvnet_without_its_mask_layer(causal, skip_chan):
    """With Asteroid's weights and P * bn_chan = C * N, the trunk's maps are TDConvNet's masks before f."""
    kw = dict(n_blocks=2, n_repeats=2, bn_chan=16, hid_chan=12, skip_chan=skip_chan, conv_kernel_size=3, causal=causal,
              norm_type="cLN" if causal else "gLN")
    theirs = TDConvNet(16, n_src=2, out_chan=16, mask_act="linear", **kw).eval()
    ours = TCNTrunk(16, n_outputs=2, **kw).eval()
    renamed = {k.replace("TCN.", "blocks.").replace("mask_net.", "output."): v for k, v in theirs.state_dict().items()}
    ours.load_state_dict(renamed)
    x = torch.randn(2, 16, 33)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("head", [dict(), dict(n_outputs=8, mask_act="relu"), dict(mask_head="mlp", head_hidden=8)])
def test_conv_tasnet_with_our_heads_trains(head):
    model = ConvTasNetDeepMask(n_src=2, **TCN_TINY, **head)
    wav = torch.randn(2, 480)
    assert model(wav).shape == (2, 2, 480)
    assert model.forward_outputs(wav).shape == (2, head.get("n_outputs", 2), 480)
    model(wav).pow(2).mean().backward()
    # As in Asteroid's TDConvNet, the last block's residual output is not used with skip connections.
    unused = {"masker.trunk.blocks.1.res_conv.weight", "masker.trunk.blocks.1.res_conv.bias"}
    assert {n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()} == unused


def test_build_model_imports_the_modules_an_experiment_names(tmp_path, monkeypatch):
    (tmp_path / "my_trunks.py").write_text(
        "import torch\nfrom asteroid_deepmask import Trunk, register_trunk\n\n"
        "@register_trunk('test_plugin')\nclass Plugin(Trunk):\n"
        "    def __init__(self, in_chan, n_outputs):\n        super().__init__()\n"
        "        self.n_outputs, self.out_chan = n_outputs, in_chan\n"
        "        self.gain = torch.nn.Parameter(torch.ones(1))\n"
        "    def forward(self, x):\n        return self.gain * x.unsqueeze(1).expand(-1, self.n_outputs, -1, -1)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    conf = {"name": "DeepMaskTasNet", "imports": ["my_trunks"], "n_src": 2, "trunk": "test_plugin", "n_filters": 16}
    assert build_model(conf)(torch.randn(1, 400)).shape == (1, 2, 400)


def test_arguments_no_part_takes_are_refused_by_name():
    with pytest.raises(TypeError, match="DeepMaskTasNet got \\['bn_chan'\\], which the 'free' filterbank does not take"):
        DeepMaskTasNet(n_src=2, bn_chan=16)  # a trunk argument outside trunk_args
    with pytest.raises(TypeError, match="hid_sise"):
        DPRNNDeepMask(n_src=2, hid_sise=16)
    with pytest.raises(ValueError, match="fb_name='nope' is not an asteroid_filterbanks filterbank; choose one of"):
        DPRNNDeepMask(n_src=2, fb_name="nope")
