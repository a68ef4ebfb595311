"""model.streamer(): causal trunks, exact block-by-block outputs for any cut, fixed cost, clear errors."""
import contextlib
import os

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from asteroid_deepmask import ConvTasNetDeepMask, DPRNNDeepMask, SimoSisoTasNet
from asteroid_deepmask.deployment.quantization import PointwiseLinear, prepare_int8
from asteroid_deepmask.masknn import DPRNNTrunk, TCNTrunk

TINY_DPRNN = dict(n_filters=16, bn_chan=8, hid_size=8, chunk_size=20, hop_size=10, n_repeats=2)
TINY_TCN = dict(n_filters=16, n_blocks=3, n_repeats=2, bn_chan=8, hid_chan=16, skip_chan=8)
HEADS = {
    "linear": dict(mask_head="linear"),
    "linear P>C": dict(mask_head="linear", n_outputs=6),
    "mlp": dict(mask_head="mlp", head_hidden=8),
    "mlp shared P>C": dict(mask_head="mlp", head_hidden=8, n_outputs=4, shared_head=True),
}


def causal_model(trunk, **kwargs):
    if trunk == "dprnn":
        return DPRNNDeepMask(n_src=2, causal=True, **{**TINY_DPRNN, **kwargs}).eval()
    return ConvTasNetDeepMask(n_src=2, causal=True, **{**TINY_TCN, **kwargs}).eval()


def random_blocks(n_samples, rng):
    """A random cut of ``n_samples`` into blocks from 1 sample to 2 s, small ones first."""
    sizes = [1, 1, 3, 8, 7] + list(rng.choice([1, 5, 8, 80, 333, 1000, 16000], size=400))
    edges = np.cumsum([0] + sizes)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], np.minimum(edges[1:], n_samples)) if a < n_samples]


def streamed(model, mix, blocks):
    streamer = model.streamer()
    return torch.cat([streamer.process(mix[:, a:b]) for a, b in blocks] + [streamer.flush()], dim=-1)


@pytest.mark.parametrize("trunk", ["dprnn", "tcn"])
@pytest.mark.parametrize("head", list(HEADS))
def test_any_cut_of_the_input_gives_the_whole_input_outputs(trunk, head):
    model = causal_model(trunk, **HEADS[head])
    rng = np.random.default_rng(len(head))
    for batch in (1, 3):
        mix = torch.randn(batch, 6_000 + 37)
        with torch.no_grad():
            whole = model(mix)
        out = streamed(model, mix, random_blocks(mix.shape[-1], rng))
        assert out.shape == whole.shape
        torch.testing.assert_close(out, whole, atol=1e-5, rtol=0)


def test_a_tcn_of_one_frame_kernels_keeps_no_past_and_streams_exactly():
    model = causal_model("tcn", conv_kernel_size=1)
    mix = torch.randn(2, 6000)
    assert [tuple(s.shape) for s in model.masker.trunk.streaming_state(2, mix)] == [(2, 0, 16)] * 6
    with torch.no_grad():
        whole = model(mix)
    torch.testing.assert_close(streamed(model, mix, random_blocks(6000, np.random.default_rng(2))), whole,
                               atol=1e-5, rtol=0)


def test_a_tcn_whose_1x1_layers_are_pointwise_linears_streams_exactly():
    """int8's form of a TCN before quantizing (its 1x1 convolutions as PointwiseLinear, float weights): the stream
    runs those layers channels last, and still gives the whole input's outputs."""
    model = prepare_int8(causal_model("tcn"))
    assert isinstance(model.masker.trunk.blocks[0].shared_block[0], PointwiseLinear)
    mix = torch.randn(2, 6000)
    with torch.no_grad():
        whole = model(mix)
    torch.testing.assert_close(streamed(model, mix, random_blocks(6000, np.random.default_rng(3))), whole,
                               atol=1e-5, rtol=0)


@pytest.mark.parametrize("mask_act", ["relu", "sigmoid", "none", "prelu", "glu", "softmax"])
def test_every_mask_activation_streams_exactly(mask_act):
    model = causal_model("dprnn", n_outputs=4, mask_act=mask_act)
    mix = torch.randn(2, 6000)
    with torch.no_grad():
        whole = model(mix)
    torch.testing.assert_close(streamed(model, mix, random_blocks(6000, np.random.default_rng(1))), whole,
                               atol=1e-5, rtol=0)


@pytest.mark.parametrize("trunk", ["dprnn", "tcn"])
def test_a_causal_model_does_not_look_ahead(trunk):
    model = causal_model(trunk)
    mix = torch.randn(1, 4000)
    latency = model.streamer().latency
    with torch.no_grad():
        whole, prefix = model(mix), model(mix[:, :2000])
    # outputs up to `latency` samples before the prefix's end do not depend on what follows it
    torch.testing.assert_close(prefix[..., :2000 - latency], whole[..., :2000 - latency], atol=1e-5, rtol=0)
    assert not torch.allclose(prefix[..., -latency:], whole[..., 2000 - latency:2000], atol=1e-5)


class CountedWork(TorchDispatchMode):
    """Records every operation torch runs, with the shapes of its tensors: the work, without a clock."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        tensors = [x for x in tree_leaves((args, kwargs or {})) if torch.is_tensor(x)]
        self.ops.append((str(func), tuple(tuple(x.shape) for x in tensors)))
        return func(*args, **(kwargs or {}))


def test_the_cost_of_a_block_does_not_grow_over_ten_minutes():
    """The same operations on the same shapes for the last block of ten minutes as for an early one, and a
    state of fixed size: counted, not timed (a wall-clock ratio is flaky on a shared machine)."""
    model = causal_model("dprnn", chunk_size=200, hop_size=100, n_repeats=1)
    streamer, block = model.streamer(), 8000  # 1 s at 8 kHz: 600 blocks make 10 minutes
    noise = torch.randn(1, 4 * block)
    work, sizes, rss = {}, set(), []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one stream of a tiny model: threads only add contention
    try:
        for i in range(600):
            counted = CountedWork() if i in (5, 599) else contextlib.nullcontext()
            with counted:
                out = streamer.process(noise[:, (i % 4) * block:(i % 4 + 1) * block])
            if i in (5, 599):
                work[i] = counted.ops
            assert out.shape[-1] == block or i == 0  # every block makes as many final samples as it brings
            if i % 60 == 0:
                sizes.add(sum(s.numel() for s in streamer._states))
                rss.append(int(open(f"/proc/{os.getpid()}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    finally:
        torch.set_num_threads(threads)
    assert len(sizes) == 1  # the state has a fixed size
    assert max(rss) - rss[1] < 20 * 2**20, [r / 2**20 for r in rss]  # no growing buffer (MiB)
    assert len(work[5]) > 10 and work[599] == work[5]  # the same work for a block after 10 minutes


def test_a_non_causal_model_says_to_build_it_causal():
    for model in (DPRNNDeepMask(n_src=2, **TINY_DPRNN), ConvTasNetDeepMask(n_src=2, **TINY_TCN)):
        with pytest.raises(ValueError, match=r"causal=True"):
            model.streamer()
        with pytest.raises(ValueError, match=r"causal=True"):
            model.masker.trunk.streaming_state(1, torch.zeros(1))
    with pytest.raises(NotImplementedError, match=r"causal=True"):  # a trunk that does not stream at all
        SimoSisoTasNet(n_src=2, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10).masker.trunk.streaming_state(1, torch.zeros(1))


def test_streamer_errors_reset_and_reuse():
    model = causal_model("dprnn")
    streamer = model.streamer()
    with pytest.raises(ValueError, match=r"no block was processed"):
        streamer.flush()
    with pytest.raises(ValueError, match=r"\[batch, samples\]"):
        streamer.process(torch.randn(100))
    with pytest.raises(ValueError, match=r"divide by 32768"):
        streamer.process(torch.zeros(1, 100, dtype=torch.int16))
    mix = torch.randn(2, 3000)
    first = torch.cat([streamer.process(mix), streamer.flush()], -1)
    with pytest.raises(ValueError, match=r"reset\(\)"):
        streamer.process(mix[:, :100])
        streamer.process(mix[:1, 100:200])
    streamer.reset()
    again = torch.cat([streamer.process(mix[:, :1234]), streamer.process(mix[:, 1234:]), streamer.flush()], -1)
    torch.testing.assert_close(first, again)


def test_causal_defaults_and_their_saved_config():
    trunk = DPRNNTrunk(16, n_outputs=2, bn_chan=8, hid_size=8, n_repeats=1, causal=True)
    config = trunk.get_config()
    assert (config["norm_type"], config["bidirectional"], config["causal"]) == ("cLN", False, True)
    assert type(trunk)(**config).get_config() == config
    paper = DPRNNDeepMask(n_src=2, **TINY_DPRNN).get_model_args()
    assert (paper["norm_type"], paper["bidirectional"], paper["causal"]) == ("gLN", True, False)
    assert TCNTrunk(16, 2, n_blocks=1, n_repeats=1, bn_chan=8, hid_chan=8, causal=True).get_config()["norm_type"] == "cLN"


@pytest.mark.parametrize("kwargs, message", [
    (dict(norm_type="gLN"), r"whole utterance.*cLN"),
    (dict(bidirectional=True), r"bidirectional=True.*causal"),
    (dict(chunk_size=20, hop_size=8), r"multiple of hop_size"),
])
def test_causal_arguments_that_would_look_ahead_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DPRNNDeepMask(n_src=2, causal=True, **{**TINY_DPRNN, **kwargs})
