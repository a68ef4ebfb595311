"""The streaming step's state layout (issue 34): three tensors for all blocks, inter-chunk queues as ring buffers
indexed by the frame count, nothing shifted or concatenated per call, the same handful of state operations at any
depth, exact whatever the block's phase against the chunks."""
import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.deployment.export import read_export_metadata
from asteroid_deepmask.deployment.streaming_export import export_streaming_model

#: ops that compute shapes only: a path through them carries no state data
SHAPE_OPS = {"Shape", "Size"}


def tiny_dprnn(hop_size, chunk_size, n_repeats=2):
    torch.manual_seed(0)
    return DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=chunk_size,
                         hop_size=hop_size, n_repeats=n_repeats).eval()


def ops_on_state_path(graph, state):
    """Op types of the nodes that the data of the graph input ``state`` flows through before an RNN."""
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    seen, ops, todo = set(), set(), [state]
    while todo:
        for node in consumers.get(todo.pop(), []):
            if id(node) in seen or node.op_type in SHAPE_OPS:
                continue
            seen.add(id(node))
            ops.add(node.op_type)
            if node.op_type not in ("LSTM", "GRU", "RNN"):
                todo.extend(node.output)
    return ops


def bookkeeping(path):
    """How many nodes of each op type that moves or picks state data the exported step at ``path`` has."""
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    return {op: ops.count(op) for op in ("Gather", "ScatterND", "Where", "Split", "Concat", "Slice", "Pad")}


def test_the_state_is_three_tensors_read_and_written_once_whatever_the_depth(tmp_path):
    paths = {n: export_streaming_model(tiny_dprnn(hop_size=5, chunk_size=10, n_repeats=n), tmp_path / f"{n}.onnx",
                                       block=40) for n in (2, 5)}
    graph = onnx.load(str(paths[2])).graph
    states = read_export_metadata(paths[2])["states"]
    trunk = [s for s in states if s["name"].startswith("trunk_state_")]
    # the frame count, every block's intra-chunk h and c, every block's inter-chunk queues of h and c
    assert [s["shape"] for s in trunk] == [[1], [2, 2, 1, 2, "batch", 8], [5, 2, 2, 1, 2, "batch", 8]]
    produced = {out: node.op_type for node in graph.node for out in node.output}
    intra, queues = trunk[1]["name"], trunk[2]["name"]
    assert "Concat" not in ops_on_state_path(graph, intra) | ops_on_state_path(graph, queues)
    # the queues' rows of this run are read and written, nothing moves
    assert ops_on_state_path(graph, queues) >= {"Gather", "ScatterND"} and produced[f"next_{queues}"] == "ScatterND"
    # three more blocks add their layers, and not one more operation on the state
    assert bookkeeping(paths[5]) == bookkeeping(paths[2])


@pytest.mark.parametrize("hop_size,block", [(5, 24), (10, 32)])
def test_ring_buffers_wrap_around_exactly_for_blocks_that_do_not_divide_the_hop(hop_size, block, tmp_path):
    """3 frames per call against a hop of 5 (runs of 1 frame), 4 against 10 (runs of 2, a chunk starting inside
    some calls): every phase, the stream's first hop (read from the start's constants) and many wrap-arounds."""
    model = tiny_dprnn(hop_size=hop_size, chunk_size=2 * hop_size)
    path = export_streaming_model(model, tmp_path / "live.onnx", block=block)
    meta = read_export_metadata(path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = ["mixture"] + [s["name"] for s in meta["states"]]
    states = [np.zeros([2 if d == "batch" else d for d in s["shape"]], dtype=s["dtype"]) for s in meta["states"]]
    mix = torch.randn(2, 250 * block)
    out, counts = [], []
    for start in range(0, mix.shape[-1], block):
        sources, *states = session.run(None, dict(zip(names, [mix[:, start:start + block].numpy(), *states])))
        out.append(sources)
        counts.append(int(states[1][0]))  # the trunk's first state, after the encoder's
    live = np.concatenate(out, axis=-1)[..., meta["latency"]:]
    with torch.no_grad():
        whole = model(mix).numpy()
    np.testing.assert_allclose(live, whole[..., :live.shape[-1]], atol=1e-4, rtol=0)
    # the frame count stays bounded: past the first hop it keeps to [hop, 2 hop)
    assert set(counts[hop_size:]) <= set(range(hop_size, 2 * hop_size)) and counts[0] == block // 8


@pytest.mark.parametrize("kwargs", [dict(rnn_type="GRU"), dict(rnn_type="RNN"), dict(num_layers=2)])
def test_other_rnns_and_stacked_layers_stream_exactly_in_torch_and_onnx(kwargs, tmp_path):
    """A GRU or plain RNN has one state tensor per RNN (h only), two layers put the layers axis to use;
    the eager step writes a one-frame LSTM cell out, the exported one keeps the LSTM: both equal the whole input."""
    torch.manual_seed(0)
    model = DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10, hop_size=5,
                          n_repeats=2, **kwargs).eval()
    mix = torch.randn(1, 4000)
    with torch.no_grad():
        whole = model(mix)
    streamer = model.streamer()
    cuts = [0, 1, 9, 80, 333, 1000, 1007, 2500, 4000]
    out = torch.cat([streamer.process(mix[:, a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [streamer.flush()], -1)
    torch.testing.assert_close(out, whole, atol=1e-5, rtol=0)
    path = export_streaming_model(model, tmp_path / "live.onnx", block=40)
    meta = read_export_metadata(path)
    n = 1 if kwargs.get("rnn_type") in ("GRU", "RNN") else 2
    assert [s["shape"][:3] for s in meta["states"][2:-1]] == [[2, n, kwargs.get("num_layers", 1)], [5, 2, n]]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    states = [np.zeros([1 if d == "batch" else d for d in s["shape"]], dtype=s["dtype"]) for s in meta["states"]]
    live = []
    for start in range(0, 4000, 40):
        sources, *states = session.run(None, {"mixture": mix[:, start:start + 40].numpy(),
                                              **{s["name"]: v for s, v in zip(meta["states"], states)}})
        live.append(sources)
    live = np.concatenate(live, axis=-1)[..., meta["latency"]:]
    np.testing.assert_allclose(live, whole.numpy()[..., :live.shape[-1]], atol=1e-4, rtol=0)


def test_the_frame_count_stays_below_two_hops_after_blocks_of_any_size():
    model = tiny_dprnn(hop_size=5, chunk_size=10)
    streamer = model.streamer()
    for size in (8, 16000, 24, 4000, 80):  # 1, 2000, 3, 500 and 10 frames
        streamer.process(torch.randn(1, size))
        count = int(streamer._states[1])
        assert 5 <= count < 10 or count == 1
    assert count == 5 + (1 + 2000 + 3 + 500 + 10) % 5
