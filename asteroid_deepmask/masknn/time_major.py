"""DPRNN blocks run time-major: the features kept as ``[chunk_size, n_chunks, batch, chan]``.

Asteroid's ``DPRNNBlock.forward`` takes ``[batch, chan, chunk_size, n_chunks]`` and, for each of
its two RNNs, moves the axes into a batch-first sequence and back: four layout copies per block in
torch, and in an ONNX graph a Transpose on each side of both LSTMs as well (the ONNX LSTM is
time-major), about a fifth of ONNX Runtime's time on a 4 s input. Here the features stay
time-major for the intra-chunk RNN (``[chunk_size, n_chunks * batch, chan]`` is a view), the
inter-chunk RNN reads them with the two chunk axes swapped, and the norms work in that layout: one
copy per block, the same layers and parameters, the same function up to float rounding.
"""
import torch
from asteroid.masknn import norms
from torch import nn


def run_rnn(rnn, x, state=None):
    """``rnn`` (Asteroid's batch-first RNN, or its int8
    :class:`~asteroid_deepmask.deployment.quantization.QuantizedRNN`) on the time-major ``x``
    ``[frames, batch', chan]``, from ``state`` (a list of ``[layers, batch', hid]``: h and c for an LSTM,
    h otherwise; None: zeros); returns the outputs ``[frames, batch', hid]`` and the list after the last frame.

    The transposes around the batch-first call are views in torch and cancel in an exported graph."""
    state = None if state is None else tuple(state) if len(state) > 1 else state[0]
    out, state = rnn(x.transpose(0, 1), state)
    return out.transpose(0, 1), list(state) if isinstance(state, tuple) else [state]


def per_frame(norm, x):
    """The block's per-frame norm (Asteroid's ``cLN``, channels on axis 1) on ``[..., chan]`` features.

    One fused ``layer_norm`` over the last axis: the same statistics and gain, without the dozen
    small operations and transposes of the module, which cost a fifth of a 10 ms streamed block."""
    return nn.functional.layer_norm(x, norm.gamma.shape, norm.gamma, norm.beta, norms.EPS)


def _item_mean(x):
    """The mean of each item of ``x`` ``[chunk_size, n_chunks, batch, chan]``: ``[1, 1, batch, 1]``.

    One axis at a time: ONNX Runtime's ReduceMean over axes (0, 1, 3) at once sums them one by one in
    float32, 0.1 off the mean (3) of 18 M values, where reducing each axis in turn stays as close as torch."""
    return x.mean(3, keepdim=True).mean(1, keepdim=True).mean(0, keepdim=True)


def _norm(norm, x):
    """``norm`` (a module of ``[batch, chan, chunk_size, n_chunks]``) on ``x`` ``[chunk_size, n_chunks, batch, chan]``."""
    if isinstance(norm, norms.ChanLN):
        return per_frame(norm, x)
    if isinstance(norm, norms.GlobLN):  # statistics over all of an item's chunks and channels, as Asteroid's
        centred = x - _item_mean(x)
        return norm.gamma * (centred / torch.sqrt(_item_mean(centred.pow(2)) + norms.EPS)) + norm.beta
    return norm(x.permute(2, 3, 0, 1)).permute(2, 3, 0, 1)  # other norms: in their own layout


def run_blocks(blocks, chunks):
    """Asteroid's ``DPRNNBlock`` (or :class:`~.causal_dual_path.CausalDPRNNBlock`) ``blocks`` in turn on ``chunks``
    ``[batch, chan, chunk_size, n_chunks]``, time-major inside; returns the same shape.

    Example:
        >>> from asteroid.masknn.recurrent import DPRNNBlock
        >>> blocks = nn.Sequential(DPRNNBlock(8, 6), DPRNNBlock(8, 6))
        >>> chunks = torch.randn(2, 8, 10, 5)
        >>> torch.allclose(run_blocks(blocks, chunks), blocks(chunks), atol=1e-5)
        True
    """
    x = chunks.permute(2, 3, 0, 1).contiguous()  # [chunk_size, n_chunks, batch, chan]
    size, n_chunks, batch, chan = x.shape
    for block in blocks:
        out = run_rnn(block.intra_RNN.rnn, x.reshape(size, n_chunks * batch, chan))[0]
        x = x + _norm(block.intra_norm, block.intra_linear(out).reshape(size, n_chunks, batch, chan))
        across = x.transpose(0, 1).reshape(n_chunks, size * batch, chan)  # [n_chunks, chunk_size * batch, chan]
        out = run_rnn(block.inter_RNN.rnn, across)[0]
        out = block.inter_linear(out).reshape(n_chunks, size, batch, chan).transpose(0, 1)
        x = x + _norm(block.inter_norm, out)
    return x.permute(2, 3, 0, 1)
