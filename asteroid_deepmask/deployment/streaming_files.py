"""Streaming files: one block step of a causal model as ONNX or TorchScript, and streamers over any model.

An exported step maps ``(mixture [batch, block], *states)`` to ``(sources [batch, n_src, block],
*next_states)``, the states in the same order as the inputs; a stream starts with every state at
zeros and feeds each call the states the previous one returned. The output lags the input by
``latency`` samples: the first ``latency`` output samples of a stream come before its start, and
at its end the last ones are the ``decoder_tail`` state. The metadata record says
``streaming: true``, ``block``, ``stride``, ``latency`` and each state's name, shape (``"batch"`` where the
batch goes) and dtype. The graph is :func:`~.streaming.stream_step`, traced for that block.

:func:`load_streamer` gives a streamer for a hub folder or repository, a ``.pth`` file or a
streaming export: ``process`` / ``flush`` / ``latency`` / ``reset`` whatever runs the model.
"""
import json
import os

import numpy as np
import torch
from torch import nn

from ..models.pretrained import looks_like_repo_id
from ..utils.atomic import atomic_paths
from ..utils.library_noise import library_warnings_ignored
from .export import (METADATA_KEY, INPUT_NAME, OUTPUT_NAME, cpu_float_copy, detect_export_format, export_format,
                     export_metadata, read_export_metadata, write_onnx)
from .streaming import Streamer, initial_states, stream_latency, stream_step

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


def export_streaming_model(model, path, block, format=None, opset=None):
    """Write one block step of the causal ``model`` to ``path`` (ONNX or TorchScript); returns ``path``.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model.
        path (str): ``*.onnx`` or ``*.pt``; written under a temporary name and renamed when complete.
        block (int): samples per call, a multiple of the encoder's stride.
        format (str, optional): ``"onnx"`` or ``"torchscript"``; by default from the suffix.
        opset (int, optional): ONNX opset.

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
    step = StreamingStep(cpu_model).eval()
    example = (torch.randn(1, block), *(torch.zeros([1 if d == "batch" else d for d in s["shape"]],
                                                    dtype=getattr(torch, s["dtype"])) for s in metadata["states"]))
    names = [s["name"] for s in metadata["states"]]
    with atomic_paths(path) as (tmp,), library_warnings_ignored(), torch.no_grad():
        if format == "onnx":
            axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
            for state in metadata["states"]:
                batch_axis = {state["shape"].index("batch"): "batch"} if "batch" in state["shape"] else {}
                axes[state["name"]] = axes[f"next_{state['name']}"] = batch_axis
            write_onnx(step, example, tmp, metadata, opset, [INPUT_NAME, *names],
                       [OUTPUT_NAME, *(f"next_{n}" for n in names)], axes)
        else:
            traced = torch.jit.trace(step, example, check_trace=False)
            torch.jit.save(traced, tmp, _extra_files={f"{METADATA_KEY}.json": json.dumps(metadata)})
    return path


class ExportedStreamer:
    """A :class:`~.streaming.Streamer` over a streaming ONNX or TorchScript file.

    :meth:`process` takes any number of samples and runs the file on whole blocks (keeping the
    rest for the next call). :meth:`flush` runs a last block padded with zeros when samples are
    left over: the padding then adds to the last ``latency + stride`` output samples, which the
    torch streamer makes exactly; a stream of whole blocks ends exactly.

    Args:
        path (str): a file written by :func:`export_streaming_model`.
        device (str): ``"cpu"`` (ONNX Runtime's CPU provider, or TorchScript on the CPU).
    """

    def __init__(self, path, device="cpu"):
        self.metadata = metadata = read_export_metadata(path)
        if not metadata.get("streaming"):
            raise ValueError(f"{path!r} is an offline export (whole inputs): separate files with it with "
                             "`asteroid-deepmask separate`, or export the model with --streaming to stream.")
        self.path, self.backend = os.fspath(path), detect_export_format(path)
        self.sample_rate, self.n_src = float(metadata["sample_rate"]), int(metadata["n_src"])
        self.block, self.latency, self.stride = int(metadata["block"]), int(metadata["latency"]), int(metadata["stride"])
        if self.backend == "onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        else:
            self._module = torch.jit.load(self.path, map_location=device)
        self.reset()

    def reset(self):
        """Forget the streams: the next samples start new ones."""
        self._states, self._pending, self._received, self._to_skip = None, None, 0, self.latency

    def _run(self, block):
        if self._states is None:
            self._states = [np.zeros([block.shape[0] if d == "batch" else d for d in s["shape"]], dtype=s["dtype"])
                            for s in self.metadata["states"]]
        if self.backend == "onnx":
            names = [INPUT_NAME, *(s["name"] for s in self.metadata["states"])]
            out = self._session.run(None, dict(zip(names, [block, *self._states])))
        else:
            with torch.no_grad():
                out = [t.numpy() for t in self._module(*(torch.from_numpy(a) for a in [block, *self._states]))]
        self._states = out[1:]
        return out[0]

    def process(self, block):
        """The sources of the next samples ``[batch, n]`` (tensor or array): ``[batch, n_src, m]`` float32 tensor."""
        block = np.asarray(block.detach().cpu() if torch.is_tensor(block) else block, dtype=np.float32)
        if block.ndim != 2:
            raise ValueError(f"process takes a block [batch, samples], got shape {block.shape}.")
        self._received += block.shape[-1]
        pending = block if self._pending is None else np.concatenate([self._pending, block], axis=-1)
        whole = pending.shape[-1] // self.block * self.block
        outs = [self._run(np.ascontiguousarray(pending[:, i:i + self.block])) for i in range(0, whole, self.block)]
        self._pending = pending[:, whole:]
        out = np.concatenate(outs, axis=-1) if outs else np.zeros((block.shape[0], self.n_src, 0), np.float32)
        return self._skip(out)

    def flush(self):
        """The rest of the streams' sources; the next samples start new streams."""
        if self._pending is None:
            raise ValueError("flush() ends a stream, and no samples were processed since the last reset or flush.")
        left = self._pending.shape[-1]
        last = [self._run(np.pad(self._pending, ((0, 0), (0, self.block - left))))] if left else []
        # The output so far ends `latency` samples before the input's last whole block.
        rest = self._skip(np.concatenate([*last, self._states[-1]], axis=-1)[..., :left + self.latency])
        self.reset()
        return rest

    def _skip(self, out):
        skip = min(self._to_skip, out.shape[-1])
        self._to_skip -= skip
        return torch.from_numpy(np.ascontiguousarray(out[..., skip:]))


def load_streamer(source, device="cpu", revision=None):
    """A streamer for ``source``: a causal model, hub folder or repository id, ``.pth`` file, or streaming export.

    Returns :class:`~.streaming.Streamer` (torch, exact for any blocks) or :class:`ExportedStreamer`.

    Raises:
        ValueError: the model is not causal, or the file is an offline export.
    """
    from ..models import DeepMaskEncoderMaskerDecoder

    if isinstance(source, DeepMaskEncoderMaskerDecoder):
        return Streamer(source)
    path = os.fspath(source)
    if detect_export_format(path) is not None:
        return ExportedStreamer(path, device)
    if not (os.path.exists(path) or looks_like_repo_id(path)):
        raise ValueError(f"{path!r} does not exist: give a hub folder or repository id, a .pth model or a "
                         "streaming .onnx/.pt export.")
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(path, revision=revision).to(device).eval()
    return Streamer(model)
