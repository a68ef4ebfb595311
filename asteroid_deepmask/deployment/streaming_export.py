"""Streaming export: one block step of a causal model as an ONNX or TorchScript file.

An exported step maps ``(mixture [batch, block], *states)`` to ``(sources [batch, n_src, block],
*next_states)``, the states in the same order as the inputs; a stream starts with every state at
zeros and feeds each call the states the previous one returned. The output lags the input by
``latency`` samples: the first ``latency`` output samples of a stream come before its start, and
its end comes out of blocks padded with NaN, ``latency`` samples past the input's end. The metadata record says
``streaming: true``, ``block``, ``stride``, ``latency``, each state's name, shape (``"batch"`` where the
batch goes) and dtype, and ``end_padding: "nan"``: pad a stream's end with NaN (samples that add no
frame) to end it as ``model(whole input)`` does. The graph is :func:`~.streaming.stream_step`, traced for that block.

The states, in order: ``encoder_past``, the trunk's (``trunk_state_0``, ...), ``decoder_tail``. A causal DPRNN's
are three whatever its depth: a frame count (int64 ``[1]``: its value modulo ``hop_size`` is the phase of the next
frame), every block's intra-chunk LSTM h and c (``[blocks, 2, layers, lanes, batch, hid]``) and every block's
inter-chunk queues of h and c (``[hop_size, blocks, 2, layers, lanes, batch, hid]``, a ring buffer whose row is the
phase: a call reads and rewrites the rows of its frames, nothing shifts); a GRU or plain RNN has h only (1 for the
2). A call reads, starts and writes them once for all blocks. A Conv-TasNet's are the last inputs of each block's
depthwise convolution, channels last (``[batch, kept, hid_chan]``). Every state is float32 or int64, and the
metadata's list is complete: a client reads nothing else.

:func:`~.streamers.load_streamer` runs such a file (or a model) as a streamer.
"""
import math
import os
import warnings

import torch
from torch import nn

from .export import (INPUT_NAME, OUTPUT_NAME, cpu_float_copy, export_format, export_metadata, read_export_metadata,
                     write_export)
from ..utils.errors import UserFacingWarning
from .streaming import initial_states, stream_latency, stream_start, stream_step

ENCODER_STATE, DECODER_STATE = "encoder_past", "decoder_tail"
#: What pads a stream's last, partial block (:class:`StreamingStep`): NaN, which adds no frame.
END_PADDING = "nan"


#: A stream's block when none is given, in milliseconds (rounded up to whole strides).
DEFAULT_BLOCK_MS = 10


def _model_rate_stride(model_or_rate, stride):
    """``(rate, stride)`` of a model or streamer (``sample_rate``, ``stride`` or ``encoder.stride``), or of a rate
    and the ``stride`` given."""
    if hasattr(model_or_rate, "sample_rate"):
        own = getattr(model_or_rate, "stride", None)
        own = model_or_rate.encoder.stride if own is None else own
        if stride is not None and int(stride) != int(own):
            raise ValueError(f"stride={stride} differs from the model's own stride ({own} samples); leave stride out "
                             "when passing a model.")
        return float(model_or_rate.sample_rate), int(own)
    if stride is None:
        raise ValueError("block_samples needs the model's stride: pass the model itself, or its sample rate and "
                         "stride=model.encoder.stride.")
    return float(model_or_rate), int(stride)


def check_block(block, stride, rate=None, name="block"):
    """Raise a ValueError, in samples, unless ``block`` is a positive whole multiple of ``stride`` samples.

    Example:
        >>> check_block(81, 8)
        Traceback (most recent call last):
        ...
        ValueError: block=81 samples is not a whole multiple of the model's stride (8 samples); use e.g. block=80 or block=88.
    """
    if isinstance(block, bool) or not isinstance(block, int) and not (hasattr(block, "__index__")):
        raise ValueError(f"{name} must be a whole number of samples, got {name}={block!r}.")
    block = int(block)
    if block > 0 and not block % stride:
        return block
    in_ms = f", {1000 * stride / rate:g} ms at {rate:g} Hz" if rate else ""
    below, above = block // stride * stride, (block // stride + 1) * stride
    fixes = f"{name}={below} or {name}={above}" if below > 0 else f"{name}={above}"
    raise ValueError(f"{name}={block} samples is not a whole multiple of the model's stride ({stride} samples{in_ms}); "
                     f"use e.g. {fixes}.")


def block_samples(model_or_rate, block_ms=None, stride=None, name="block_ms"):
    """Samples in a block of ``block_ms`` milliseconds, checked to be a whole multiple of the model's stride.

    Args:
        model_or_rate: a model or streamer (its ``sample_rate`` and stride are used), or a sample rate in Hz.
        block_ms (float, optional): the block in milliseconds. None: :data:`DEFAULT_BLOCK_MS` (10 ms) rounded up
            to whole strides, with a :class:`~asteroid_deepmask.utils.errors.UserFacingWarning` when rounded.
        stride (int, optional): the model's stride in samples; required with a sample rate.
        name (str): how the caller spells ``block_ms`` (``"--block-ms"``, ``"streaming_block_ms"``), for messages.

    Raises:
        ValueError: ``block_ms`` is not a whole number of strides (the message names ``name`` and a fix in its units).

    Example:
        >>> block_samples(8000, 10, 8)
        80
    """
    rate, stride = _model_rate_stride(model_or_rate, stride)
    given = name if name.startswith("-") else f"{name}="
    if block_ms is None:
        exact = DEFAULT_BLOCK_MS * rate / 1000
        block = max(1, math.ceil(exact / stride - 1e-9)) * stride
        if abs(block - exact) > 1e-6:
            warnings.warn(f"the default block of {DEFAULT_BLOCK_MS:g} ms ({exact:g} samples at {rate:g} Hz) is not a "
                          f"whole number of the model's stride ({stride} samples); using {block} samples "
                          f"({1000 * block / rate:g} ms) instead (set {name} to choose).", UserFacingWarning,
                          stacklevel=2)
        return block
    exact = block_ms * rate / 1000
    block = round(exact)
    if block <= 0 or block % stride or abs(block - exact) > 1e-6:
        sep = " " if name.startswith("-") else ""
        below, above = math.floor(exact / stride + 1e-9) * stride, (math.floor(exact / stride + 1e-9) + 1) * stride
        fixes = [f"{given}{sep}{1000 * b / rate:g}" for b in (below, above) if b > 0]
        raise ValueError(f"{given}{sep}{block_ms:g} is {exact:g} samples at {rate:g} Hz; a block must be a whole "
                         f"multiple of the model's stride ({stride} samples, {1000 * stride / rate:g} ms): e.g. "
                         f"{' or '.join(fixes)}.")
    return block


def state_names(n_states):
    """Names of a stream's ``n_states`` state tensors, in order (the outputs add ``next_``)."""
    return [ENCODER_STATE, *(f"trunk_state_{i}" for i in range(n_states - 2)), DECODER_STATE]


class StreamingStep(nn.Module):
    """One block of a stream, as a module to export: ``(mixture, *states) -> (sources, *next_states)``.

    The states a user feeds start at zeros; what they stand for at a stream's start (a DPRNN's run
    through the zero padding of its chunking, :func:`~.streaming.stream_start`) is inside, as
    constants, read only where the stream has not written yet.

    NaN samples are no samples: they count as zeros, and a frame whose last sample is NaN adds
    nothing to the output. A stream's last, partial block is padded with NaN (metadata
    ``end_padding: "nan"``), so that the stream ends as ``model(whole input)`` and the torch
    :class:`~.streaming.Streamer` end it: no frame past the input's end.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model, on the CPU in float32.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.start = stream_start(model, torch.zeros(()))
        self.stride = int(model.encoder.stride)

    def forward(self, mixture, *states):
        present = ~torch.isnan(mixture)
        mixture = torch.where(present, mixture, torch.zeros_like(mixture))
        # a frame is past the end when its newest sample is padding
        sources, states = stream_step(self.model, mixture, states, present[:, self.stride - 1::self.stride],
                                      self.start)
        return (sources, *states)


def streaming_metadata(model, block):
    """The metadata record of a streaming export: the offline record plus the stream's block, latency and states."""
    one, two = (initial_states(model, n, torch.zeros(())) for n in (1, 2))
    states = []
    for name, a, b in zip(state_names(len(one)), one, two):
        shape = ["batch" if x != y else x for x, y in zip(a.shape, b.shape)]
        states.append(dict(name=name, shape=shape, dtype=str(a.dtype).replace("torch.", "")))
    return {**export_metadata(model), "streaming": True, "block": int(block), "stride": int(model.encoder.stride),
            "latency": stream_latency(model), "states": states, "end_padding": END_PADDING}


def export_streaming_model(model, path, block, format=None, opset=None, quantize=None):
    """Write one block step of the causal ``model`` to ``path`` (ONNX or TorchScript); returns ``path``.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model.
        path (str): ``*.onnx`` or ``*.pt``; written under a temporary name and renamed when complete.
        block (int): samples per call, a whole multiple of the encoder's stride (:func:`block_samples` converts
            milliseconds).
        format (str, optional): ``"onnx"`` or ``"torchscript"``; by default from the suffix.
        opset (int, optional): ONNX opset.
        quantize (str, optional): ``"int8"``: dynamic int8 (:func:`~.export.export_model`).

    Example:
        >>> import os, tempfile
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> model = DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=16, hid_size=8, n_repeats=1)
        >>> path = export_streaming_model(model, os.path.join(tempfile.mkdtemp(), "live.pt"), block=80)
        >>> meta = read_export_metadata(path); meta["block"], meta["latency"], [s["name"] for s in meta["states"]][:2]
        (80, 8, ['encoder_past', 'trunk_state_0'])
    """
    path = os.fspath(path)
    format = export_format(path, format)
    cpu_model = cpu_float_copy(model)
    block = check_block(block, cpu_model.encoder.stride, cpu_model.sample_rate)
    metadata = streaming_metadata(cpu_model, block)
    example = (torch.randn(1, block), *(torch.zeros([1 if d == "batch" else d for d in s["shape"]],
                                                    dtype=getattr(torch, s["dtype"])) for s in metadata["states"]))
    names = [s["name"] for s in metadata["states"]]
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    for state in metadata["states"]:
        batch_axis = {state["shape"].index("batch"): "batch"} if "batch" in state["shape"] else {}
        axes[state["name"]] = axes[f"next_{state['name']}"] = batch_axis
    write_export(cpu_model, example, path, format, metadata, opset, [INPUT_NAME, *names],
                 [OUTPUT_NAME, *(f"next_{n}" for n in names)], axes, quantize, wrap=lambda m: StreamingStep(m).eval())
    return path
