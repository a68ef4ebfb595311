"""Streaming ONNX / TorchScript: one block step, states in and out from zeros, equal to torch streaming."""
import numpy as np
import onnxruntime
import pytest
import torch

from asteroid_deepmask import ConvTasNetDeepMask, DPRNNDeepMask
from asteroid_deepmask.deployment.separators import load_separator
from asteroid_deepmask.deployment.export import read_export_metadata
from asteroid_deepmask.deployment.streamers import ExportedStreamer, load_streamer
from asteroid_deepmask.deployment.streaming_export import block_samples, export_streaming_model


@pytest.fixture(scope="module")
def causal_mlp():
    torch.manual_seed(0)
    return DPRNNDeepMask(n_src=2, causal=True, mask_head="mlp", head_hidden=8, n_outputs=4, n_filters=16, bn_chan=8,
                         hid_size=8, chunk_size=100, hop_size=50, n_repeats=2).eval()


@pytest.fixture(scope="module")
def onnx_step(causal_mlp, tmp_path_factory):
    # 40 ms blocks: 5 calls of the 30 s stream per second, each step 40 frames (runs of gcd(40, 50) = 10)
    return export_streaming_model(causal_mlp, tmp_path_factory.mktemp("live") / "live.onnx", block=320)


def test_onnx_runtime_fed_its_own_states_equals_torch_streaming_over_30_s(causal_mlp, onnx_step):
    meta = read_export_metadata(onnx_step)
    session = onnxruntime.InferenceSession(str(onnx_step), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["mixture"] + [s["name"] for s in meta["states"]]
    assert [o.name for o in session.get_outputs()] == ["sources"] + [f"next_{s['name']}" for s in meta["states"]]
    mix = torch.randn(1, 30 * 8000)
    streamer = causal_mlp.streamer()
    states = [np.zeros([1 if d == "batch" else d for d in s["shape"]], dtype=s["dtype"]) for s in meta["states"]]
    worst = 0.0
    for start in range(0, mix.shape[-1], 320):
        block = mix[:, start:start + 320]
        out, *states = session.run(None, {"mixture": block.numpy(), **{s["name"]: v for s, v in zip(meta["states"], states)}})
        expected = streamer.process(block)
        if start == 0:  # the torch streamer leaves out the `latency` samples before the start
            out = out[..., meta["latency"]:]
        worst = max(worst, float(np.abs(out - expected.numpy()).max()))
    assert worst < 1e-4


def test_the_metadata_names_the_block_latency_and_states(causal_mlp, onnx_step):
    meta = read_export_metadata(onnx_step)
    assert (meta["streaming"], meta["block"], meta["latency"], meta["stride"]) == (True, 320, 8, 8)
    names = [s["name"] for s in meta["states"]]
    # the frame count, then every block's (2 here) intra-chunk LSTM h and c and every block's inter-chunk queues of them
    assert names == ["encoder_past", *(f"trunk_state_{i}" for i in range(3)), "decoder_tail"]
    assert meta["states"][0]["shape"] == ["batch", 1, 8] and meta["states"][-1]["shape"] == ["batch", 2, 8]
    assert meta["states"][1] == dict(name="trunk_state_0", shape=[1], dtype="int64")
    intra, queue = dict(shape=[2, 2, 1, 2, "batch", 8], dtype="float32"), dict(shape=[50, 2, 2, 1, 2, "batch", 8],
                                                                                dtype="float32")
    assert [{k: s[k] for k in ("shape", "dtype")} for s in meta["states"][2:-1]] == [intra, queue]
    assert meta["model_args"]["causal"] is True


@pytest.mark.parametrize("suffix", ["onnx", "pt"])
def test_exported_streamers_equal_the_whole_input_for_a_batch_of_3(suffix, tmp_path):
    torch.manual_seed(1)
    model = ConvTasNetDeepMask(n_src=2, causal=True, n_filters=16, n_blocks=3, n_repeats=1, bn_chan=8, hid_chan=16,
                               skip_chan=8).eval()
    path = export_streaming_model(model, tmp_path / f"live.{suffix}", block=32)
    mix = torch.randn(3, 8000)  # whole blocks: the stream ends exactly
    streamer = load_streamer(path)
    assert isinstance(streamer, ExportedStreamer) and streamer.latency == 8
    out = torch.cat([streamer.process(mix[:, i:i + 700]) for i in range(0, 8000, 700)] + [streamer.flush()], -1)
    with torch.no_grad():
        torch.testing.assert_close(out, model(mix), atol=1e-4, rtol=0)


def test_streaming_and_offline_files_each_name_the_command_that_takes_them(causal_mlp, onnx_step, tmp_path):
    with pytest.raises(ValueError, match=r"streaming export.*asteroid-deepmask stream"):
        load_separator(str(onnx_step))
    offline = causal_mlp.export(str(tmp_path / "whole.onnx"))
    with pytest.raises(ValueError, match=r"offline export.*--streaming"):
        load_streamer(offline)


def test_a_block_must_be_whole_strides():
    assert block_samples(8000, 10, 8) == 80
    with pytest.raises(ValueError, match=r"block_ms=4.5 is 36 samples.*stride \(8 samples"):
        block_samples(8000, 4.5, 8)
