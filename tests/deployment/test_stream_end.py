"""One end rule for a stream (issue 36, item 3): model(whole), the torch Streamer and a streaming export
end alike for lengths that are not whole blocks or strides; an empty block then flush() is an empty end."""
import os

import numpy as np
import pytest
import torch

from asteroid_deepmask import ConvTasNetDeepMask, DPRNNDeepMask
from asteroid_deepmask.deployment.streamers import ExportedStreamer
from asteroid_deepmask.deployment.streaming_export import export_streaming_model, read_export_metadata

BLOCK = 80  # 10 stride-8 frames
#: lengths that are not whole blocks (8037, 163) nor whole strides (8037, 163, 85, 17)
LENGTHS = (8037, 163, 85, 17, 160)


def _models():
    torch.manual_seed(0)
    return {
        "dprnn": DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10,
                               n_repeats=1).eval(),
        "tcn": ConvTasNetDeepMask(n_src=2, causal=True, n_filters=16, n_blocks=2, n_repeats=1, bn_chan=8,
                                  hid_chan=8, skip_chan=8).eval(),
    }


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream_end")
    models = _models()
    return {(name, fmt): (model, export_streaming_model(model, str(root / f"{name}.{fmt}"), block=BLOCK))
            for name, model in models.items() for fmt in ("onnx", "pt")}


def _cuts(n):
    """A cut of n samples into uneven blocks, none of them whole blocks."""
    edges = [0, *[e for e in (3, 37, 120, 1001, 4000) if e < n], n]
    return list(zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("fmt", ["onnx", "pt"])
@pytest.mark.parametrize("name", ["dprnn", "tcn"])
def test_export_torch_streamer_and_whole_model_end_alike(exports, name, fmt):
    model, path = exports[name, fmt]
    assert read_export_metadata(path)["end_padding"] == "nan"
    for n in LENGTHS:
        mix = torch.randn(1, n, generator=torch.Generator().manual_seed(n))
        with torch.no_grad():
            whole = model(mix)
        for streamer in (ExportedStreamer(path), model.streamer()):
            out = torch.cat([streamer.process(mix[:, a:b]) for a, b in _cuts(n)] + [streamer.flush()], dim=-1)
            assert out.shape == whole.shape, (type(streamer).__name__, n)
            # the last latency + stride samples are where a zero-padded last block differed (by up to 0.2)
            torch.testing.assert_close(out, whole, atol=2e-5, rtol=1e-4, msg=f"{type(streamer).__name__}, {n} samples")


def test_a_zero_padded_end_would_differ(exports):
    """The test above can fail: the old end (the last block padded with zeros) changes the last samples."""
    model, path = exports["dprnn", "onnx"]
    mix = torch.randn(1, 163, generator=torch.Generator().manual_seed(1))
    streamer = ExportedStreamer(path)
    streamer.metadata = {**streamer.metadata, "end_padding": None}  # as files written before end_padding
    out = torch.cat([streamer.process(mix), streamer.flush()], dim=-1)
    with torch.no_grad():
        assert (out - model(mix)).abs().max() > 1e-4


@pytest.mark.parametrize("fmt", ["onnx", "pt"])
def test_an_empty_block_then_flush_ends_an_empty_stream(exports, fmt):
    model, path = exports["dprnn", fmt]
    for streamer in (ExportedStreamer(path), model.streamer()):
        assert streamer.process(torch.zeros(2, 0)).shape == (2, 2, 0)
        assert streamer.flush().shape == (2, 2, 0)
        # and the streamer is ready for a new stream
        mix = torch.randn(2, 400, generator=torch.Generator().manual_seed(2))
        out = torch.cat([streamer.process(mix), streamer.flush()], dim=-1)
        with torch.no_grad():
            torch.testing.assert_close(out, model(mix), atol=2e-5, rtol=1e-4)

