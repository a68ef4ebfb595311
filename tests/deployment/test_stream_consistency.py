"""Streaming a model that projects its outputs onto the input (MixIT's mixture consistency): ``"uniform"``
streams exactly, by the torch streamer and by a streaming export; ``"power"`` is refused, with why."""
import numpy as np
import pytest
import torch

from asteroid_deepmask import ConvTasNetDeepMask, DPRNNDeepMask
from asteroid_deepmask.deployment.streamers import ExportedStreamer
from asteroid_deepmask.deployment.streaming_export import export_streaming_model

TINY = {"dprnn": dict(n_filters=16, bn_chan=8, hid_size=8, chunk_size=20, hop_size=10, n_repeats=2),
        "tcn": dict(n_filters=16, n_blocks=3, n_repeats=1, bn_chan=8, hid_chan=16, skip_chan=8)}
BLOCK = 80  # 10 stride-8 frames


def causal_model(trunk, **kwargs):
    """A causal model with 4 outputs grouped into 2 sources, seeded so that its twin has its weights."""
    torch.manual_seed(0)
    cls = DPRNNDeepMask if trunk == "dprnn" else ConvTasNetDeepMask
    return cls(n_src=2, n_outputs=4, causal=True, **TINY[trunk], **kwargs).eval()


def random_blocks(n_samples, rng):
    """A random cut of ``n_samples`` into blocks from 1 sample to 1000."""
    sizes = [1, 3, 8, 7] + list(rng.choice([1, 5, 8, 80, 333, 1000], size=200))
    edges = np.minimum(np.cumsum([0] + sizes), n_samples)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if a < b]


def streamed(streamer, mix, blocks):
    return torch.cat([streamer.process(mix[:, a:b]) for a, b in blocks] + [streamer.flush()], dim=-1)


@pytest.mark.parametrize("trunk", ["dprnn", "tcn"])
def test_uniform_consistency_streams_exactly_for_any_cut(trunk):
    model = causal_model(trunk, mixture_consistency="uniform")
    plain = causal_model(trunk)
    rng = np.random.default_rng(3)
    for batch, n in ((1, 6037), (3, 4000)):
        mix = torch.randn(batch, n)
        with torch.no_grad():
            whole = model(mix)
        assert torch.allclose(whole.sum(1), mix, atol=1e-5)  # the model's outputs are projected
        blocks = random_blocks(n, rng)
        out = streamed(model.streamer(), mix, blocks)
        assert out.shape == whole.shape
        torch.testing.assert_close(out, whole, atol=1e-5, rtol=0)
        # the projection is what makes them equal: the same weights streamed without it differ
        assert (streamed(plain.streamer(), mix, blocks) - whole).abs().max() > 1e-2


@pytest.mark.parametrize("fmt", ["onnx", "pt"])
def test_an_exported_uniform_step_streams_exactly(fmt, tmp_path):
    model = causal_model("dprnn", mixture_consistency="uniform")
    path = export_streaming_model(model, str(tmp_path / f"live.{fmt}"), block=BLOCK)
    # 8077: the last block holds 77 samples, and the stream's last 5 come from the decoder's tail at flush
    for batch, n in ((1, 8077), (3, 1000)):
        mix = torch.randn(batch, n, generator=torch.Generator().manual_seed(n))
        with torch.no_grad():
            whole = model(mix)
        out = streamed(ExportedStreamer(path), mix, random_blocks(n, np.random.default_rng(n)))
        assert out.shape == whole.shape
        torch.testing.assert_close(out, whole, atol=2e-5, rtol=1e-4)


def test_power_consistency_is_refused_with_its_reason(tmp_path):
    model = causal_model("dprnn", mixture_consistency="power")
    reason = "mixture_consistency='power'.*energy over the whole signal, unknown while streaming"
    with pytest.raises(ValueError, match=reason):
        model.streamer()
    with pytest.raises(ValueError, match=reason):
        export_streaming_model(model, str(tmp_path / "live.onnx"), block=BLOCK)
    assert not (tmp_path / "live.onnx").exists()
