"""Export: every model class and every head on DPRNN, as ONNX (run by ONNX Runtime) and TorchScript,
gives the eager output on lengths and batch sizes the export never saw."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from asteroid_deepmask import (
    ConvTasNetDeepMask,
    DPRNNDeepMask,
    DeepMaskTasNet,
    SimoSisoTasNet,
    SlicedAttentionTasNet,
    group_outputs,
)
from asteroid_deepmask.models import get_model_class
from asteroid_deepmask.deployment.export import METADATA_KEY, export_model, read_export_metadata

FB = dict(n_filters=16, kernel_size=16, stride=8)
DP = dict(bn_chan=16, hid_size=8, chunk_size=20, n_repeats=1)
MODELS = {
    "dprnn_linear": lambda: DPRNNDeepMask(2, **DP, **FB),
    "dprnn_linear_p4_sigmoid": lambda: DPRNNDeepMask(2, n_outputs=4, mask_act="sigmoid", **DP, **FB),
    "dprnn_linear_shared_3src": lambda: DPRNNDeepMask(3, shared_head=True, **DP, **FB),
    "dprnn_mlp": lambda: DPRNNDeepMask(2, mask_head="mlp", head_hidden=8, **DP, **FB),
    "dprnn_mlp_shared_p4": lambda: DPRNNDeepMask(2, mask_head="mlp", head_hidden=8, shared_head=True, n_outputs=4,
                                                 **DP, **FB),
    "dprnn_stft_relu_encoder": lambda: DPRNNDeepMask(2, fb_name="stft", encoder_activation="relu", **DP, **FB),
    "convtasnet": lambda: ConvTasNetDeepMask(2, n_blocks=2, n_repeats=1, bn_chan=16, hid_chan=16, skip_chan=16,
                                             **FB),
    "simo_siso": lambda: SimoSisoTasNet(2, bn_chan=16, hid_size=8, chunk_size=20, n_simo=1, n_siso=1, **FB),
    "sliced_attention": lambda: SlicedAttentionTasNet(2, embed_chan=4, n_blocks=1, slice_len=100, **FB),
    "sliced_attention_n_slices": lambda: SlicedAttentionTasNet(2, embed_chan=4, n_blocks=1, n_slices=24, **FB),
    "general_tcn_mlp": lambda: DeepMaskTasNet(2, trunk="tcn", trunk_args=dict(n_blocks=2, n_repeats=1, bn_chan=16,
                                                                               hid_chan=16, skip_chan=16),
                                              head="mlp", head_args=dict(hidden=8), n_outputs=4, **FB),
}
# 0.5 s, 4 s and 17.3 s at 8 kHz, batch 1 and 3; the export traced a 1 s clip of batch 1.
INPUTS = [(batch, int(seconds * 8000)) for seconds in (0.5, 4.0, 17.3) for batch in (1, 3)]


def _model(name):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    for p in model.parameters():  # away from initial values, so that no layer is trivially 0 or 1
        p.data.add_(0.05 * torch.randn_like(p))
    return model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            folder = tmp_path_factory.mktemp(name)
            model = _model(name)
            onnx_path, ts_path = export_model(model, folder / "m.onnx"), export_model(model, folder / "m.pt")
            session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
            cache[name] = model, session, torch.jit.load(str(ts_path)), onnx_path, ts_path
        return cache[name]

    return get


@pytest.mark.parametrize("name", MODELS)
def test_exports_match_eager_on_unseen_lengths_and_batches(name, exported):
    model, session, scripted, _, _ = exported(name)
    gen = torch.Generator().manual_seed(1)
    for batch, length in INPUTS:
        mix = torch.randn(batch, length, generator=gen)
        with torch.no_grad():
            expected = model(mix)
            from_ts = scripted(mix)
        from_onnx = session.run(None, {"mixture": mix.numpy()})[0]
        assert expected.shape == (batch, model.masker.n_src, length)
        assert from_onnx.shape == tuple(expected.shape) and from_ts.shape == expected.shape
        assert expected.abs().max() > 1e-3  # a non-trivial output to compare
        np.testing.assert_allclose(from_onnx, expected.numpy(), atol=1e-4, rtol=0)
        torch.testing.assert_close(from_ts, expected, atol=1e-4, rtol=0)


def test_metadata_rebuilds_the_model_and_onnx_is_valid(exported):
    model, _, _, onnx_path, ts_path = exported("dprnn_mlp_shared_p4")
    for path in (onnx_path, ts_path):
        meta = read_export_metadata(path)
        assert meta["model_name"] == "DPRNNDeepMask" and meta["n_src"] == 2 and meta["sample_rate"] == 8000
        assert meta["min_samples"] == 16 and meta["model_args"] == model.get_model_args()
        rebuilt = get_model_class(meta["model_name"])(**meta["model_args"])
        assert rebuilt.get_model_args() == model.get_model_args()
    proto = onnx.load(str(onnx_path))
    onnx.checker.check_model(proto, full_check=True)
    assert json.loads({p.key: p.value for p in proto.metadata_props}[METADATA_KEY])["n_src"] == 2
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "time"]


def test_eager_checks_still_raise(tiny_dprnn):
    model = tiny_dprnn()
    with pytest.raises(ValueError, match="shorter than the encoder kernel"):
        model(torch.randn(1, 5))
    with pytest.raises(ValueError, match="single-channel"):
        model(torch.randn(1, 2, 800))
    with pytest.raises(ValueError, match="cannot be grouped"):
        group_outputs(torch.randn(1, 3, 4), 2)


def test_method_format_and_errors(tiny_dprnn, tmp_path):
    model = tiny_dprnn()
    assert read_export_metadata(model.export(tmp_path / "m.bin", format="torchscript"))["n_src"] == 2
    with pytest.raises(ValueError, match="Unknown export format 'tflite'"):
        model.export(tmp_path / "m.tflite", format="tflite")
    with pytest.raises(ValueError, match="Cannot tell the export format"):
        model.export(tmp_path / "m.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]  # nothing else written


@pytest.mark.parametrize("content", [b"hello, not a model\n", b"", bytes(range(256)) * 10])
def test_files_that_are_not_exports_are_named(tmp_path, content):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"model\.onnx"):
        read_export_metadata(path)
    text = tmp_path / "notes.txt"
    text.write_bytes(content)
    with pytest.raises(ValueError, match="is not an exported model"):
        read_export_metadata(text)


def test_foreign_exports_are_refused(tmp_path):
    layer = torch.nn.Linear(4, 4)
    with pytest.warns(DeprecationWarning):
        torch.onnx.export(layer, (torch.randn(1, 4),), str(tmp_path / "foreign.onnx"), dynamo=False)
    torch.jit.save(torch.jit.trace(layer, torch.randn(1, 4)), str(tmp_path / "foreign.pt"))
    for name, kind in (("foreign.onnx", "an ONNX"), ("foreign.pt", "a TorchScript")):
        with pytest.raises(ValueError, match=f"is {kind} model but not one exported by asteroid-deepmask"):
            read_export_metadata(tmp_path / name)
