"""Streaming export: one block step of a causal model as an ONNX or TorchScript file.

An exported step maps ``(mixture [batch, block], *states)`` to ``(sources [batch, n_src, block],
*next_states)``, the states in the same order as the inputs; a stream starts with every state at
zeros and feeds each call the states the previous one returned. The output lags the input by
``latency`` samples: the first ``latency`` output samples of a stream come before its start, and
at its end the last ones are the ``decoder_tail`` state. The metadata record says
``streaming: true``, ``block``, ``stride``, ``latency`` and each state's name, shape (``"batch"`` where the
batch goes) and dtype. The graph is :func:`~.streaming.stream_step`, traced for that block.

:func:`~.streamers.load_streamer` runs such a file (or a model) as a streamer.
"""
import os

import torch
from torch import nn

from .export import (INPUT_NAME, OUTPUT_NAME, cpu_float_copy, export_format, export_metadata, read_export_metadata,
                     write_export)
from .streaming import initial_states, stream_latency, stream_step

ENCODER_STATE, DECODER_STATE = "encoder_past", "decoder_tail"


def block_samples(model_or_rate, block_ms, stride):
    """Samples in a block of ``block_ms`` milliseconds, checked to be a multiple of the model's ``stride``.

    Example:
        >>> block_samples(8000, 10, 8)
        80
    """
    rate = float(model_or_rate)
    block = round(block_ms * rate / 1000)
    if block <= 0 or block % stride or abs(block - block_ms * rate / 1000) > 1e-6:
        raise ValueError(f"--block-ms {block_ms:g} is {block_ms * rate / 1000:g} samples at {rate:g} Hz; a block must "
                         f"be a whole multiple of the model's stride ({stride} samples, "
                         f"{1000 * stride / rate:g} ms): e.g. --block-ms {1000 * stride * max(1, round(block / stride)) / rate:g}.")
    return block


def state_names(n_states):
    """Names of a stream's ``n_states`` state tensors, in order (the outputs add ``next_``)."""
    return [ENCODER_STATE, *(f"trunk_state_{i}" for i in range(n_states - 2)), DECODER_STATE]


class StreamingStep(nn.Module):
    """One block of a stream, as a module to export: ``(mixture, *states) -> (sources, *next_states)``.

    The states a user feeds start at zeros; the trunk's own start (a DPRNN's run through the
    zero padding of its chunking) is added inside, as constants.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model, on the CPU in float32.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        start = initial_states(model, 1, torch.zeros(()))
        self.offsets = [s if s.is_floating_point() and bool(s.any()) else None for s in start]

    def forward(self, mixture, *states):
        states = tuple(s if o is None else s + o for s, o in zip(states, self.offsets))
        sources, states = stream_step(self.model, mixture, states)
        return (sources, *(s if o is None else s - o for s, o in zip(states, self.offsets)))


def streaming_metadata(model, block):
    """The metadata record of a streaming export: the offline record plus the stream's block, latency and states."""
    one, two = (initial_states(model, n, torch.zeros(())) for n in (1, 2))
    states = []
    for name, a, b in zip(state_names(len(one)), one, two):
        shape = ["batch" if x != y else x for x, y in zip(a.shape, b.shape)]
        states.append(dict(name=name, shape=shape, dtype=str(a.dtype).replace("torch.", "")))
    return {**export_metadata(model), "streaming": True, "block": int(block), "stride": int(model.encoder.stride),
            "latency": stream_latency(model), "states": states}


def export_streaming_model(model, path, block, format=None, opset=None, quantize=None):
    """Write one block step of the causal ``model`` to ``path`` (ONNX or TorchScript); returns ``path``.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model.
        path (str): ``*.onnx`` or ``*.pt``; written under a temporary name and renamed when complete.
        block (int): samples per call, a multiple of the encoder's stride.
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
    block_samples(cpu_model.sample_rate, 1000 * block / cpu_model.sample_rate, cpu_model.encoder.stride)
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
