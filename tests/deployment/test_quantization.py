"""int8: every model class exports quantized and runs through `separate` and `stream`; the int8 outputs agree
with float32; 1x1 convolutions become int8 linear layers, except the folded pair; the refusals name the problem."""
import numpy as np
import onnx
import pytest
import soundfile as sf
import torch

from asteroid_deepmask import ConvTasNetDeepMask, DPRNNDeepMask, DeepMaskTasNet, SimoSisoTasNet, SlicedAttentionTasNet
from asteroid_deepmask.cli import main
from asteroid_deepmask.deployment.export import read_export_metadata
from asteroid_deepmask.deployment.quantization import (PointwiseLinear, QuantizedRNN, check_quantizable,
                                                       prepare_int8, quantize_int8)
from asteroid_deepmask.deployment.separators import load_separator
from asteroid_deepmask.deployment.streamers import load_streamer
from asteroid_deepmask.deployment.streaming_export import export_streaming_model

FB = dict(n_filters=16, kernel_size=16, stride=8)
DP = dict(bn_chan=16, hid_size=8, chunk_size=20, n_repeats=1)
MODELS = {  # each model class, and the layer kinds its int8 form quantizes
    "dprnn": (lambda: DPRNNDeepMask(2, mask_head="mlp", head_hidden=8, **DP, **FB), {"Conv1x1", "LSTM", "Linear"}),
    "simo_siso": (lambda: SimoSisoTasNet(2, bn_chan=16, hid_size=8, chunk_size=20, n_simo=1, n_siso=1, **FB),
                  {"Conv1x1", "LSTM", "Linear"}),
    "general_gru_p4": (lambda: DeepMaskTasNet(2, trunk="dprnn", trunk_args=dict(**DP, rnn_type="GRU"), head="mlp",
                                              head_args=dict(hidden=8), n_outputs=4, **FB),
                       {"Conv1x1", "GRU", "Linear"}),
    "convtasnet": (lambda: ConvTasNetDeepMask(2, n_blocks=2, n_repeats=1, bn_chan=16, hid_chan=16, skip_chan=16,
                                              mask_head="mlp", head_hidden=8, **FB), {"Conv1x1"}),
    "sliced_attention": (lambda: SlicedAttentionTasNet(2, embed_chan=4, n_blocks=1, slice_len=100, **FB), {"Conv1x1"}),
}
# Quantization noise of a working int8 model is 33-45 dB below these tiny models' outputs; 8-bit
# saturation (ONNX Runtime without reduce_range on x86 without VNNI) brought them to 8-20 dB.
AGREEMENT_DB = 25.0


def si_sdr_db(reference, estimate):
    ref, est = torch.as_tensor(reference).double(), torch.as_tensor(estimate).double()
    target = ref * (est * ref).sum(-1, keepdim=True) / (ref * ref).sum(-1, keepdim=True)
    return (10 * ((target ** 2).sum(-1) / ((est - target) ** 2).sum(-1)).log10()).mean().item()


def _model(build):
    torch.manual_seed(0)
    return build().eval()


@pytest.fixture(scope="module")
def mixture(tmp_path_factory):
    folder = tmp_path_factory.mktemp("int8_audio")
    wav = (0.3 * np.random.default_rng(0).standard_normal(12_000)).astype("float32")
    sf.write(folder / "mix.wav", wav, 8000, subtype="FLOAT")
    return folder / "mix.wav", wav


def _separated(folder, n_src=2):
    return np.stack([sf.read(folder / f"mix_s{i + 1}.wav", dtype="float32")[0] for i in range(n_src)])


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("suffix", ["onnx", "pt"])
def test_every_model_class_exports_int8_and_separates_like_float32(name, suffix, mixture, tmp_path, capsys):
    build, layers = MODELS[name]
    model = _model(build)
    model.save_pretrained(str(tmp_path / "hub"))
    path = str(tmp_path / f"model_int8.{suffix}")
    assert main(["export", "--model", str(tmp_path / "hub"), "--quantize", "int8", "-o", path]) == 0
    assert f" in dynamic int8 ({', '.join(sorted(layers))} layers) to " in capsys.readouterr().out
    quantization = read_export_metadata(path)["quantization"]
    assert quantization["dtype"] == "int8" and quantization["method"] == "dynamic"
    assert quantization["engine"] == ("onnxruntime" if suffix == "onnx" else "torch")
    assert set(quantization["layers"]) == layers
    file_separator = load_separator(path)
    assert file_separator.precision == "int8"
    with torch.no_grad():
        float_out = model(torch.from_numpy(mixture[1])[None])[0].numpy()
    for source, options, out in [(path, [], tmp_path / "out_file"), (str(tmp_path / "hub"), ["--precision", "int8"],
                                                                     tmp_path / "out_torch")]:
        assert main(["separate", "--model", source, str(mixture[0]), "-o", str(out), *options]) == 0
        got = _separated(out)
        assert got.shape == float_out.shape
        assert AGREEMENT_DB < si_sdr_db(float_out, got) < 80  # close to float32, and not float32 itself


def test_int8_graphs_hold_quantized_layers(tmp_path):
    model = _model(MODELS["dprnn"][0])
    int8 = quantize_int8(model)
    block = int8.masker.trunk.dual_path.blocks[0]
    assert isinstance(block.intra_RNN.rnn, QuantizedRNN) and block.intra_linear.weight().is_quantized
    assert isinstance(model.masker.trunk.dual_path.blocks[0].intra_RNN.rnn, torch.nn.LSTM)  # the model is unchanged
    onnx_path = model.export(str(tmp_path / "m.onnx"), quantize="int8")
    ops = {node.op_type for node in onnx.load(onnx_path).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops and "MatMulInteger" in ops
    ts_path = model.export(str(tmp_path / "m.pt"), quantize="int8")
    assert "quantized" in str(torch.jit.load(ts_path).inlined_graph)


def test_pointwise_convolutions_become_int8_linear_layers_except_the_folded_pair():
    conv = torch.nn.Conv1d(12, 9, 1, groups=3)
    x = torch.randn(2, 12, 40)
    assert torch.allclose(PointwiseLinear(conv)(x), conv(x), atol=1e-6)
    model = _model(MODELS["convtasnet"][0])
    prepared = prepare_int8(model)
    trunk, head = prepared.masker.trunk, prepared.masker.head
    # The masker multiplies the trunk's last layer and the head's first into one product from their weights.
    assert type(trunk.output[1]) is torch.nn.Conv1d and type(head.layers[0]) is torch.nn.Conv1d
    block = trunk.blocks[0]
    assert all(isinstance(layer, PointwiseLinear) for layer in (trunk.bottleneck[1], block.shared_block[0],
                                                               block.res_conv, block.skip_conv, head.layers[2]))
    assert isinstance(head.layers[4], PointwiseLinear) and head.layers[4].groups == 2  # per-source MLP layers
    assert type(block.shared_block[3]) is torch.nn.Conv1d  # depthwise: stays float32
    assert type(model.masker.trunk.blocks[0].res_conv) is torch.nn.Conv1d  # the model is unchanged
    wav = torch.randn(1, 4000)
    with torch.no_grad():
        assert torch.allclose(prepared(wav), model(wav), atol=1e-5)  # the same products, before quantization
        int8 = quantize_int8(model)
        assert int8.masker.trunk.blocks[0].res_conv.linears[0].weight().is_quantized
        assert AGREEMENT_DB < si_sdr_db(model(wav), int8(wav)) < 80


def test_models_without_a_quantizable_layer_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="Cannot quantize Sequential to int8: it has no LSTM, GRU, Linear or 1x1 "
                                         "convolution layer"):
        check_quantizable(torch.nn.Sequential(torch.nn.Conv1d(4, 4, 3), torch.nn.Conv2d(4, 4, 1)))


def test_layers_without_an_int8_form_are_named():
    model = DPRNNDeepMask(2, rnn_type="RNN", **DP, **FB)
    with pytest.raises(ValueError, match=r"masker\.trunk\.dual_path\.blocks\.0\.intra_RNN\.rnn is a plain RNN \(tanh\)"):
        quantize_int8(model)


def test_precision_refusals(tmp_path):
    model = _model(MODELS["dprnn"][0])
    with pytest.raises(ValueError, match="int8 runs on the CPU"):
        load_separator(model, device="cuda", precision="int8")
    for suffix in ("onnx", "pt"):
        path = model.export(str(tmp_path / f"m.{suffix}"), quantize="int8")
        for precision in ("int8", "bf16"):
            with pytest.raises(ValueError, match=r"runs in the precision it was exported in \(int8\)"):
                load_separator(path, precision=precision)
    float_ts = model.export(str(tmp_path / "float.pt"))
    assert load_separator(float_ts, precision="bf16").precision == "bf16"  # autocast over a float32 TorchScript file
    with pytest.raises(ValueError, match=r"exported in \(float32\)"):
        load_separator(float_ts, precision="int8")
    causal = DPRNNDeepMask(2, causal=True, **DP, **FB).eval()
    live = export_streaming_model(causal, str(tmp_path / "live.onnx"), block=80)
    with pytest.raises(ValueError, match=r"exported in \(float32\): drop --precision"):
        load_streamer(live, precision="int8")
    with pytest.raises(ValueError, match="Unknown quantization 'int4'"):
        model.export(str(tmp_path / "m4.onnx"), quantize="int4")
    with pytest.raises(ValueError, match="Unknown stream precision 'bf16'"):
        load_streamer(model, precision="bf16")


@pytest.fixture(scope="module", params=["dprnn", "convtasnet"])
def causal_int8(request, tmp_path_factory):
    """``(root, model, layers)``: a tiny causal model of each trunk kind, saved in ``root / "hub"``, and the
    layer kinds its int8 form quantizes."""
    if request.param == "dprnn":
        return (*request.getfixturevalue("causal_hub"), ["Conv1x1", "LSTM", "Linear"])
    torch.manual_seed(0)
    model = ConvTasNetDeepMask(2, causal=True, n_blocks=2, n_repeats=1, bn_chan=16, hid_chan=16, skip_chan=16,
                               mask_head="mlp", head_hidden=8, **FB).eval()
    root = tmp_path_factory.mktemp("causal_tcn")
    model.save_pretrained(str(root / "hub"))
    return root, model, ["Conv1x1"]


@pytest.mark.parametrize("backend", ["torch", "onnx", "pt"])
def test_causal_models_stream_in_int8(causal_int8, backend, mixture, capsys):
    root, model, layers = causal_int8
    source, options = root / "hub", ["--precision", "int8"]
    if backend != "torch":
        source, options = root / f"live_int8.{backend}", []
        assert main(["export", "--model", str(root / "hub"), "--streaming", "--quantize", "int8", "-o", str(source),
                     "--force"]) == 0
        meta = read_export_metadata(str(source))
        assert meta["streaming"] and meta["quantization"]["layers"] == layers
    out = root / f"out_{backend}"
    assert main(["stream", "--model", str(source), str(mixture[0]), "-o", str(out), *options]) == 0
    assert "ms in int8;" in capsys.readouterr().out
    with torch.no_grad():
        whole = model(torch.from_numpy(mixture[1])[None])[0].numpy()
    got = _separated(out)
    assert got.shape == whole.shape and AGREEMENT_DB < si_sdr_db(whole, got) < 80


def test_int8_streams_of_any_blocks_match_the_int8_whole_input(causal_int8, mixture):
    # Dynamic int8 scales each call's inputs, so blocks match the whole input to int8 rounding only.
    root, model, _ = causal_int8
    streamer = load_streamer(str(root / "hub"), precision="int8")
    wav = torch.from_numpy(mixture[1])[None]
    parts = [streamer.process(wav[:, :3333]), streamer.process(wav[:, 3333:]), streamer.flush()]
    with torch.no_grad():
        whole = streamer.model(wav)
    assert si_sdr_db(whole, torch.cat(parts, -1)) > AGREEMENT_DB
