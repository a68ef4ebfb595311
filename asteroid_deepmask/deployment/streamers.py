"""Streamers: live separation block by block, over a causal torch model or a streaming export.

Both kinds offer ``process``, ``flush``, ``latency``, ``reset``, ``sample_rate``, ``n_src``,
``stride`` and ``precision``; :func:`load_streamer` picks one for a model, a hub folder or
repository, a ``.pth`` file or a file written by :func:`~.streaming_export.export_streaming_model`.
"""
import os

import numpy as np
import torch

from ..models.pretrained import looks_like_repo_id
from .export import INPUT_NAME, detect_export_format, read_export_metadata
from .quantization import INT8, quantize_int8
from .separators import check_device, check_file_precision, check_precision, file_precision
from .streaming import Streamer, skip_leading

#: Precisions a torch model streams in (bf16 autocast is for whole files).
STREAM_PRECISIONS = ("32", INT8)


class ExportedStreamer:
    """A :class:`~.streaming.Streamer` over a streaming ONNX or TorchScript file.

    :meth:`process` takes any number of samples and runs the file on whole blocks (keeping the
    rest for the next call). :meth:`flush` runs a last block padded with NaN when samples are
    left over (the file's ``end_padding``; files without it are padded with zeros, which adds to
    the last ``latency + stride`` output samples): frames past the input's end then add nothing,
    and the stream ends as the torch streamer and ``model(whole input)`` end it.

    Args:
        path (str): a file written by :func:`export_streaming_model`.
        device (str): where the step runs: ``"cpu"`` for ONNX (ONNX Runtime's CPU provider) and int8 TorchScript;
            a float32 TorchScript file also runs on ``"cuda"``, its state kept there. Sources come back on the CPU.

    Raises:
        ValueError: a device the file cannot run on (the message names the one it can).
    """

    def __init__(self, path, device="cpu"):
        self.metadata = metadata = read_export_metadata(path)
        if not metadata.get("streaming"):
            raise ValueError(f"{path!r} is an offline export (whole inputs): separate files with it with "
                             "`asteroid-deepmask separate`, or export the model with --streaming to stream.")
        self.path, self.backend = os.fspath(path), detect_export_format(path)
        self.sample_rate, self.n_src = float(metadata["sample_rate"]), int(metadata["n_src"])
        self.block, self.latency, self.stride = int(metadata["block"]), int(metadata["latency"]), int(metadata["stride"])
        self.precision = file_precision(metadata)
        self.device = _export_device(self.path, self.backend, self.precision, device)
        if self.backend == "onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        else:
            self._module = torch.jit.load(self.path, map_location=self.device)
        self.reset()

    def reset(self):
        """Forget the streams: the next samples start new ones."""
        self._states, self._pending, self._to_skip = None, None, self.latency

    def _initial_states(self, batch):
        """Zeros: numpy arrays for ONNX Runtime, tensors on the device for TorchScript."""
        shapes = [([batch if d == "batch" else d for d in s["shape"]], s["dtype"]) for s in self.metadata["states"]]
        if self.backend == "onnx":
            return [np.zeros(shape, dtype=dtype) for shape, dtype in shapes]
        return [torch.zeros(shape, dtype=getattr(torch, dtype), device=self.device) for shape, dtype in shapes]

    def _run(self, block):
        if self._states is None:
            self._states = self._initial_states(block.shape[0])
        if self.backend == "onnx":
            names = [INPUT_NAME, *(s["name"] for s in self.metadata["states"])]
            out = self._session.run(None, dict(zip(names, [block, *self._states])))
        else:
            with torch.no_grad():
                out = self._module(torch.from_numpy(block).to(self.device), *self._states)
            self._states = list(out[1:])  # they stay on the device
            return out[0].cpu().numpy()
        self._states = out[1:]
        return out[0]

    def process(self, block):
        """The sources of the next samples ``[batch, n]`` (tensor or array): ``[batch, n_src, m]`` float32 tensor."""
        block = np.asarray(block.detach().cpu() if torch.is_tensor(block) else block, dtype=np.float32)
        if block.ndim != 2:
            raise ValueError(f"process takes a block [batch, samples], got shape {block.shape}.")
        pending = block if self._pending is None else np.concatenate([self._pending, block], axis=-1)
        whole = pending.shape[-1] // self.block * self.block
        self._pending = pending[:, whole:]
        return self._skip(self._run_blocks(pending[:, :whole]))

    def _run_blocks(self, samples):
        """The step over ``samples`` ``[batch, k * block]``, block by block: ``[batch, n_src, k * block]``."""
        outs = [self._run(np.ascontiguousarray(samples[:, i:i + self.block]))
                for i in range(0, samples.shape[-1], self.block)]
        return np.concatenate(outs, axis=-1) if outs else np.zeros((samples.shape[0], self.n_src, 0), np.float32)

    def flush(self):
        """The rest of the streams' sources; the next samples start new streams."""
        if self._pending is None:
            raise ValueError("flush() ends a stream, and no samples were processed since the last reset or flush.")
        left = self._pending.shape[-1]
        if self._states is None:  # only empty blocks so far: the streams' start
            self._states = self._initial_states(self._pending.shape[0])
        # The output so far ends `latency` samples before the pending samples: padded blocks (samples that add no
        # frame) give those, projected as the model projects its outputs, since the step itself makes them.
        pad = np.nan if self.metadata.get("end_padding") == "nan" else 0.0
        wanted = left + self.latency
        padded = np.pad(self._pending, ((0, 0), (0, -(-wanted // self.block) * self.block - left)), constant_values=pad)
        rest = self._skip(self._run_blocks(padded)[..., :wanted])
        self.reset()
        return rest

    def _skip(self, out):
        out, self._to_skip = skip_leading(out, self._to_skip)
        return torch.from_numpy(np.ascontiguousarray(out))


def _export_device(path, backend, precision, device):
    """The ``torch.device`` a streaming export at ``path`` runs on, or a ValueError naming the one it can use."""
    device = check_device(device)
    if device.type == "cpu":
        return device
    if backend == "onnx":
        raise ValueError(f"{path!r} is an ONNX streaming export, which streams on the CPU (ONNX Runtime's CPU "
                         f"provider), not on {device}: use --device cpu, or export the model to TorchScript (.pt) "
                         f"to stream on {device}.")
    if precision != "32":
        raise ValueError(f"{path!r} is an {precision} TorchScript export, which runs on the CPU (dynamic int8 "
                         f"kernels), not on {device}: use --device cpu, or a float32 export on {device}.")
    if device.type != "cuda":
        raise ValueError(f"{path!r} streams on cpu or cuda, not on {device}: use --device cpu.")
    return device


def load_streamer(source, device="cpu", revision=None, precision="32"):
    """A streamer for ``source``: a causal model, hub folder or repository id, ``.pth`` file, or streaming export.

    Returns :class:`~.streaming.Streamer` (torch, exact for any blocks) or :class:`ExportedStreamer`.
    With ``precision="int8"`` a torch model streams with its recurrent, linear and 1x1 convolution layers in dynamic
    int8 (:func:`~.quantization.quantize_int8`, on the CPU); an export streams in the precision it was
    exported in.

    Raises:
        ValueError: the model is not causal, the file is an offline export, or the precision does not apply.
    """
    from ..models import DeepMaskEncoderMaskerDecoder

    if precision not in STREAM_PRECISIONS:
        raise ValueError(f"Unknown stream precision {precision!r}: choose one of {', '.join(STREAM_PRECISIONS)}.")
    check_precision(precision, device)
    if isinstance(source, DeepMaskEncoderMaskerDecoder):
        model = source
    else:
        path = os.fspath(source)
        if detect_export_format(path) is not None:
            check_file_precision(path, read_export_metadata(path), precision)
            return ExportedStreamer(path, device)
        if not (os.path.exists(path) or looks_like_repo_id(path)):
            raise ValueError(f"{path!r} does not exist: give a hub folder or repository id, a .pth model or a "
                             "streaming .onnx/.pt export.")
        model = DeepMaskEncoderMaskerDecoder.from_pretrained(path, revision=revision).to(device).eval()
    if precision == INT8:
        return Streamer(quantize_int8(model), precision=INT8)
    return Streamer(model)
