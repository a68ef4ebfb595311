"""The causal dual-path RNN, and how it runs on a stream of frames with a state of fixed size.

A causal DPRNN block (:class:`CausalDPRNNBlock`) runs both its RNNs forward in time and
normalises each frame alone, so a chunk's output at a frame depends on that frame and the ones
before it, and overlap-add (a sum of the chunks covering a frame) is causal too. Streamed, a frame
is covered by ``lanes = chunk_size // hop_size`` chunks at once, the newest in lane 0:

* the intra-chunk RNN of each lane carries its state from frame to frame; when a chunk starts
  (every ``hop_size`` frames) the lanes move up one, the oldest chunk ends and lane 0 starts
  from zeros;
* the inter-chunk RNN of a chunk at position ``k`` continues the state of the previous chunk at
  position ``k``, which that chunk reached ``hop_size`` frames earlier in the same lane: a
  queue of ``hop_size`` states per lane, kept as a ring buffer whose row is the frame's phase
  (its position in the hop), so that a run of frames reads and rewrites its own rows and nothing
  moves.

The state (:func:`initial_state`) is three tensors whatever the depth: a frame count (int64, which
gives the phase), every block's intra-chunk RNN states, and every block's inter-chunk queues. A run
of frames reads, starts and writes them once for all blocks, and splits them into the states each
RNN takes with one reshape: an exported step spends a fixed handful of operations on its state, not
a handful per block. A new stream's state is zeros. The chunking pads the start with ``chunk_size``
zero frames, which the whole-input forward pass runs through; :func:`stream_start` runs them once,
and a stream reads its result where it has not written yet (the intra states at its first frame,
the queues' rows in its first hop), so that it starts where the whole-input forward pass starts.
"""
import math

import torch
from asteroid.masknn.recurrent import DPRNNBlock, SingleRNN
from torch import nn

from .time_major import per_frame, run_rnn


class CausalDPRNNBlock(DPRNNBlock):
    """Asteroid's DPRNN block with a unidirectional intra-chunk RNN as well: no frame sees a later one.

    The layers and their names are those of Asteroid's ``DPRNNBlock`` with ``bidirectional=False``,
    except that the intra-chunk RNN is unidirectional too (Asteroid's is always bidirectional).
    Pair it with a per-frame norm (``"cLN"``).

    Args:
        chan (int): feature size.
        hid_size (int): hidden units of each RNN.
        norm_type (str, optional): a per-frame layer norm. Defaults to ``"cLN"``.
        rnn_type (str, optional): ``"LSTM"``, ``"GRU"`` or ``"RNN"``. Defaults to ``"LSTM"``.
        num_layers (int, optional): layers per RNN. Defaults to 1.
        dropout (float, optional): RNN dropout. Defaults to 0.

    Shapes:
        ``[batch, chan, chunk_size, n_chunks] -> [batch, chan, chunk_size, n_chunks]``.

    References:
        Y. Luo, Z. Chen, T. Yoshioka, "Dual-path RNN", ICASSP 2020.
    """

    def __init__(self, chan, hid_size, norm_type="cLN", rnn_type="LSTM", num_layers=1, dropout=0.0):
        super().__init__(chan, hid_size, norm_type=norm_type, bidirectional=False, rnn_type=rnn_type,
                         num_layers=num_layers, dropout=dropout)
        self.intra_RNN = SingleRNN(rnn_type, chan, hid_size, num_layers, dropout=dropout)
        self.intra_linear = nn.Linear(self.intra_RNN.output_size, chan)


def _n_states(rnn):
    """State tensors of one RNN: h and c for an LSTM, h otherwise."""
    return 2 if rnn.mode == "LSTM" else 1


def _rnn_step(rnn, x, state):
    """:func:`~.time_major.run_rnn` on one frame of many sequences, ``x`` ``[1, batch', chan]``.

    In torch (eager, or traced into TorchScript) a float LSTM's cell is written out with the LSTM's own
    weights (gates i, f, g, o, both biases): two products and seven small operations cost about a third
    of one call of torch's LSTM kernel at this size, whose fixed cost dominates a 10 ms block. An ONNX
    export keeps the LSTM node, which ONNX Runtime runs fused, faster than the written-out cell. Both
    are the same function up to float rounding.
    """
    if torch.onnx.is_in_onnx_export() or not isinstance(rnn, nn.LSTM) or rnn.proj_size or not rnn.bias:
        return run_rnn(rnn, x, state)
    out, (h, c) = x[0], state
    next_h, next_c = [], []
    for layer in range(rnn.num_layers):
        if layer:  # as torch's LSTM: dropout between layers, in training mode
            out = nn.functional.dropout(out, rnn.dropout, rnn.training)
        gates = (nn.functional.linear(out, getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"bias_ih_l{layer}"))
                 + nn.functional.linear(h[layer], getattr(rnn, f"weight_hh_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")))
        # one sigmoid over all four gates (g's is unused): fewer calls cost less than the extra quarter
        i, f, _, o = torch.sigmoid(gates).chunk(4, dim=-1)
        next_c.append(f * c[layer] + i * torch.tanh(gates[..., 2 * rnn.hidden_size:3 * rnn.hidden_size]))
        out = o * torch.tanh(next_c[-1])
        next_h.append(out)
    return out[None], [torch.stack(next_h), torch.stack(next_c)] if len(next_h) > 1 else [out[None], next_c[0][None]]


def _block_step(block, h, intra, inter, frames):
    """One causal block on ``h`` ``[frames, lanes * batch, chan]``; returns it and the RNN states after it.

    ``intra`` (a list of ``[layers, lanes * batch, hid]``: h and c, or h) continues each lane's chunk; ``inter``
    (the same, ``[layers, frames * lanes * batch, hid]``) holds, for each frame, the previous chunk's state at the
    same position: each (frame, lane, item) is one step of the inter-chunk RNN.
    """
    chan = block.intra_linear.out_features
    out, intra = run_rnn(block.intra_RNN.rnn, h, intra)
    h = h + per_frame(block.intra_norm, block.intra_linear(out))
    out, inter = _rnn_step(block.inter_RNN.rnn, h.reshape(1, -1, chan), inter)
    h = h + per_frame(block.inter_norm, block.inter_linear(out)).reshape(frames, -1, chan)
    return h, intra, inter


def advance(dual_path, x, states, start=None, count=None):
    """Run ``x`` ``[batch, chan, frames]`` through a causal :class:`~.dprnn.DualPathRNN` from ``states``.

    The frames must not cross the start of a chunk, except at their first frame: the callers
    cut a stream into such runs (:func:`runs`). The inter-chunk queues are ring buffers indexed by
    the phase (the count of frames modulo ``hop_size``): a run reads and rewrites their rows
    ``phase .. phase + frames - 1``, and nothing else moves. Every block's states are read, started and
    written together, once per run: what a block adds is its layers only.

    Args:
        states (tuple): ``(count, intra, queues)`` (:func:`initial_state`).
        start (tuple, optional): what the states' zeros stand for (:func:`stream_start`): read where the
            stream has not written yet (the intra states at its first frame, the queues' rows in its first
            ``hop_size`` frames). None: the states are what they say (the warm-up of :func:`stream_start`).
        count (int, optional): the frame count ``states[0]`` as a Python int (eager mode), which picks
            the start and the rows in Python; None while tracing, where tensor ops pick them.

    Returns:
        ``(feats, states)``: the PReLU features overlap-added, ``[batch, chan, frames]`` (the
        input of the projection, whose bias counts ``lanes`` times), and the next states.
    """
    counter, intra, queues = states
    frames, lanes, hop = int(x.shape[-1]), dual_path.chunk_size // dual_path.hop_size, dual_path.hop_size
    # sizes as Python ints from the layers, so that an exported step has no shape arithmetic
    rnn = dual_path.blocks[0].intra_RNN.rnn
    n_blocks, n, layers, hid = len(dual_path.blocks), _n_states(rnn), rnn.num_layers, rnn.hidden_size
    if count is None:
        phase = torch.remainder(counter, hop)
        rows = phase + torch.arange(frames, device=counter.device)
        chunk_starts, first, not_written = phase == 0, counter == 0, counter < hop
    else:
        phase = count % hop
        rows = slice(phase, phase + frames)
        chunk_starts, first, not_written = phase == 0, count == 0, count < hop

    def read(queue):
        return queue[rows] if count is not None else queue.index_select(0, rows)

    def pick(condition, if_true, state):
        """``if_true()`` where ``condition`` (a bool, or a tensor while tracing), else ``state``; ``state``'s shape."""
        if isinstance(condition, bool):
            return if_true().expand_as(state) if condition else state
        return torch.where(condition, if_true(), state)

    rows_in = read(queues)  # [frames, blocks, n, layers, lanes, batch, hid]
    if start is not None:  # what the stream has not written yet stands for the start
        intra = pick(first, lambda: start[0], intra)
        rows_in = pick(not_written, lambda: read(start[1]), rows_in)
    # A chunk starts at this run's first frame: lanes move up one, lane 0 starts from zeros.
    intra = pick(chunk_starts, lambda: nn.functional.pad(intra[:, :, :, :-1], (0, 0, 0, 0, 1, 0)), intra)
    # Each RNN's state as it takes it, [layers, sequences, hid]: one reshape and one split for all blocks.
    intra = intra.reshape(n_blocks * n * layers, -1, hid).split(layers)
    rows_in = rows_in.permute(1, 2, 3, 0, 4, 5, 6).reshape(n_blocks * n * layers, -1, hid).split(layers)
    h = x.permute(2, 0, 1).unsqueeze(1).expand(-1, lanes, -1, -1).reshape(frames, -1, dual_path.chan)
    next_intra, next_rows = [], []
    for r, block in enumerate(dual_path.blocks):
        h, block_intra, block_inter = _block_step(block, h, list(intra[n * r:n * (r + 1)]),
                                                  list(rows_in[n * r:n * (r + 1)]), frames)
        next_intra += block_intra
        next_rows += block_inter
    feats = dual_path.output[0](h.reshape(frames, lanes, -1, dual_path.chan)).sum(1).permute(1, 2, 0)
    next_intra = torch.cat(next_intra).reshape(n_blocks, n, layers, lanes, -1, hid)
    new_rows = torch.cat(next_rows).reshape(n_blocks, n, layers, frames, lanes, -1, hid).permute(3, 0, 1, 2, 4, 5, 6)
    if count is None:
        queues = queues.index_put((rows,), new_rows)
        # frames since the stream's start, kept in [hop, 2 hop) once past the first hop: its phase and whether
        # the queues were written are all that is needed
        counter = counter + frames
        counter = counter - hop * (counter >= 2 * hop).to(counter.dtype)
    else:
        queues = torch.cat([queues[:phase], new_rows, queues[phase + frames:]])
        counted = count + frames
        counter = torch.full_like(counter, counted if counted < hop else hop + counted % hop)
    return feats, (counter, next_intra, queues)


def runs(dual_path, n_frames, phase):
    """Lengths of the runs that cut ``n_frames`` frames, from chunk position ``phase``, at chunk starts.

    ``phase`` is an int in eager mode. While tracing, an exported step takes the same number of
    frames every call, so every run is ``gcd(n_frames, hop_size)`` frames (the phase is always a
    multiple of it) and the graph does not depend on the phase's value.
    """
    hop = dual_path.hop_size
    if torch.jit.is_tracing():
        step = math.gcd(n_frames, hop)
        return [step] * (n_frames // step)
    lengths, left = [], n_frames
    while left:
        lengths.append(min(left, hop - phase))
        left -= lengths[-1]
        phase = 0
    return lengths


def initial_state(dual_path, batch, like):
    """The state of ``batch`` new streams: zeros, which stand for :func:`stream_start` until the stream writes.

    Returns ``(count, intra, queues)``, three tensors whatever the number of blocks:

    * ``count``: the frames since the stream's start, int64 ``[1]`` (kept in ``[hop_size, 2 hop_size)`` after
      the first hop: its value modulo ``hop_size`` is the phase);
    * ``intra``: every block's intra-chunk RNN state, ``[blocks, n, layers, lanes, batch, hid]`` (``n``: h and c
      for an LSTM, h otherwise);
    * ``queues``: every block's inter-chunk queue of the same, ``[hop_size, blocks, n, layers, lanes, batch, hid]``
      (row ``k``: the state of the previous chunk at position ``k`` in the hop).
    """
    rnn = dual_path.blocks[0].intra_RNN.rnn
    shape = (len(dual_path.blocks), _n_states(rnn), rnn.num_layers, dual_path.chunk_size // dual_path.hop_size,
             batch, rnn.hidden_size)
    return (torch.zeros(1, dtype=torch.long, device=like.device), like.new_zeros(shape),
            like.new_zeros(dual_path.hop_size, *shape))


def stream_start(dual_path, like):
    """What a new stream's RNN states (``initial_state(...)[1:]``, batch 1) stand for: the chunking's
    ``chunk_size`` zero frames at the start, already run through, as in the whole-input forward pass."""
    lanes, hop = dual_path.chunk_size // dual_path.hop_size, dual_path.hop_size
    states = initial_state(dual_path, 1, like)
    silence = like.new_zeros(1, dual_path.chan, hop)
    with torch.no_grad():
        for started in range(1, lanes + 1):
            counter, intra, queues = advance(dual_path, silence, states)[1]
            queues[..., started:, :, :] = 0  # lanes that held no chunk yet: their first chunk starts from zeros
            states = counter, intra, queues
    return states[1:]


def forward_streaming(dual_path, x, states, start):
    """:func:`advance` over any number of frames ``x`` ``[batch, chan, frames]``, cut at chunk starts;
    ``start``: :func:`stream_start`."""
    count = None if torch.jit.is_tracing() else int(states[0])
    feats, done = [], 0
    for length in runs(dual_path, x.shape[-1], None if count is None else count % dual_path.hop_size):
        out, states = advance(dual_path, x[..., done:done + length], states, start,
                              None if count is None else count + done)
        feats.append(out)
        done += length
    return torch.cat(feats, dim=-1) if len(feats) != 1 else feats[0], states
