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
  first-in first-out queue of ``hop_size`` states per lane.

The chunking pads the start with ``chunk_size`` zero frames; :func:`initial_state` runs them
through, so that a stream starts where the whole-input forward pass starts.
"""
import math

import torch
from asteroid.masknn import norms
from asteroid.masknn.recurrent import DPRNNBlock, SingleRNN
from torch import nn


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


def _rnn(rnn, x, state):
    """``rnn`` on ``x`` ``[batch', frames, chan]`` from ``state`` ``[n_states, layers, batch', hid]``
    (h and c for an LSTM, h otherwise); returns the outputs and the state after the last frame."""
    if rnn.mode == "LSTM":  # also an int8 LSTM (deployment.quantization)
        out, (h, c) = rnn(x, (state[0].contiguous(), state[1].contiguous()))
        return out, torch.stack((h, c))
    out, h = rnn(x, state[0].contiguous())
    return out, h[None]


def _per_frame(norm, x):
    """The block's per-frame norm (Asteroid's ``cLN``, channels on axis 1) on ``[..., frames, chan]`` features.

    One fused ``layer_norm`` over the last axis: the same statistics and gain, without the dozen
    small operations and transposes of the module, which cost a fifth of a 10 ms block."""
    return nn.functional.layer_norm(x, norm.gamma.shape, norm.gamma, norm.beta, norms.EPS)


def _block_step(block, h, intra, inter):
    """One causal block on ``h`` ``[batch, lanes, frames, chan]``; returns it and the RNN states.

    ``intra`` ``[n_states, layers, batch * lanes, hid]`` continues each lane's chunk;
    ``inter`` ``[n_states, layers, frames * batch * lanes, hid]`` holds, for each frame, the
    previous chunk's state at the same position.
    """
    _, lanes, frames, chan = h.shape
    # -1 for the batch axis: an exported step takes any batch size
    out, intra = _rnn(block.intra_RNN.rnn, h.reshape(-1, frames, chan), intra)
    h = h + _per_frame(block.intra_norm, block.intra_linear(out)).reshape(-1, lanes, frames, chan)
    across = h.permute(2, 0, 1, 3).reshape(-1, 1, chan)
    out, inter = _rnn(block.inter_RNN.rnn, across, inter)
    out = _per_frame(block.inter_norm, block.inter_linear(out)).reshape(frames, -1, lanes, chan)
    return h + out.permute(1, 2, 0, 3), intra, inter


def advance(dual_path, x, states):
    """Run ``x`` ``[batch, chan, frames]`` through a causal :class:`~.dprnn.DualPathRNN` from ``states``.

    The frames must not cross the start of a chunk, except at their first frame: the callers
    cut a stream into such runs (:func:`runs`).

    Returns:
        ``(feats, states)``: the PReLU features overlap-added, ``[batch, chan, frames]`` (the
        input of the projection, whose bias counts ``lanes`` times), and the next states.
    """
    phase, intra, inter = states
    frames = x.shape[-1]
    lanes = intra.shape[-2]
    # A chunk starts at this frame: lanes move up one, lane 0 starts from zeros.
    moved = nn.functional.pad(intra[..., :-1, :], (0, 0, 1, 0))
    intra = torch.where(phase == 0, moved, intra)
    h = x.transpose(1, 2).unsqueeze(1).expand(-1, lanes, -1, -1)
    next_intra, next_inter = [], []
    for r, block in enumerate(dual_path.blocks):
        h, hi, he = _block_step(block, h, intra[r].flatten(-3, -2), inter[r][:, :, :frames].flatten(-4, -2))
        next_intra.append(hi.unflatten(-2, (-1, lanes)))
        next_inter.append(he.unflatten(-2, (frames, -1, lanes)))
    inter = torch.cat([inter[:, :, :, frames:], torch.stack(next_inter)], dim=3)
    feats = dual_path.output[0](h).sum(1).transpose(1, 2)
    return feats, (torch.remainder(phase + frames, dual_path.hop_size), torch.stack(next_intra), inter)


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
    """The state of a new stream: the start's ``chunk_size`` zero frames already run through.

    Returns ``(phase, intra, inter)``: int64 ``[1]``, ``[n_repeats, n_states, layers, batch, lanes, hid]``
    and ``[n_repeats, n_states, layers, hop_size, batch, lanes, hid]`` (n_states: 2 for an LSTM).
    """
    rnn = dual_path.blocks[0].intra_RNN.rnn
    n_states = 2 if rnn.mode == "LSTM" else 1
    lanes, hop = dual_path.chunk_size // dual_path.hop_size, dual_path.hop_size
    shape = (len(dual_path.blocks), n_states, rnn.num_layers)
    phase = torch.zeros(1, dtype=torch.long, device=like.device)
    intra = like.new_zeros(*shape, batch, lanes, rnn.hidden_size)
    inter = like.new_zeros(*shape, hop, batch, lanes, rnn.hidden_size)
    silence = like.new_zeros(batch, dual_path.chan, hop)
    with torch.no_grad():
        for started in range(1, lanes + 1):
            _, (phase, intra, inter) = advance(dual_path, silence, (phase, intra, inter))
            # Lanes that held no chunk yet: the first chunk at their positions starts from zeros.
            inter[..., started:, :] = 0
    return phase, intra, inter


def forward_streaming(dual_path, x, states):
    """:func:`advance` over any number of frames ``x`` ``[batch, chan, frames]``, cut at chunk starts."""
    phase = states[0]
    feats = []
    start = 0
    for length in runs(dual_path, x.shape[-1], None if torch.jit.is_tracing() else int(phase)):
        out, states = advance(dual_path, x[..., start:start + length], states)
        feats.append(out)
        start += length
    return torch.cat(feats, dim=-1) if len(feats) != 1 else feats[0], states
