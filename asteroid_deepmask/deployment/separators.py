"""Separators: one calling convention over a torch model, a TorchScript file and an ONNX file.

A separator maps a batch of mono windows ``[batch, time]`` (float32 torch tensor on
``separator.device``) to sources ``[batch, n_src, time]`` (float32, same device) without
gradients, and knows its ``sample_rate``, ``n_src`` and ``min_samples``. The windowed file
separation (:mod:`asteroid_deepmask.deployment.long_files`) runs on any of them, so windows, alignment and
cross-fades are the same whatever the backend.
"""
import contextlib
import copy
import os

import torch

from ..masknn.norm_statistics import centre_norm_statistics
from .export import detect_export_format, read_export_metadata

#: ``"32"``: float32. ``"bf16"``: a torch model under bfloat16 autocast (float32 outputs).
PRECISIONS = ("32", "bf16")


class TorchSeparator:
    """A torch module (a package model or a loaded TorchScript file) as a separator.

    Args:
        module (torch.nn.Module): maps ``[batch, time]`` to ``[batch, n_src, time]``.
        sample_rate (float), n_src (int), min_samples (int): what the module expects and gives.
        device (str): torch device the module runs on.
        precision (str): one of :data:`PRECISIONS`.
        description (str): what the module is, for messages.
    """

    def __init__(self, module, sample_rate, n_src, min_samples, device="cpu", precision="32", description="model"):
        if precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        self.sample_rate, self.n_src, self.min_samples = float(sample_rate), int(n_src), int(min_samples)
        self.precision, self.description = precision, description

    @classmethod
    def from_model(cls, model, device="cpu", precision="32"):
        """A separator running a package model (a :class:`DeepMaskEncoderMaskerDecoder`).

        In bf16, it runs a copy whose layer norms compute their statistics in float32
        (:mod:`asteroid_deepmask.masknn.norm_statistics`): faster than bfloat16 variances on the
        CPU, and closer to the float32 output.
        """
        module = centre_norm_statistics(copy.deepcopy(model), torch.float32) if precision == "bf16" else model
        return cls(module, model.sample_rate, model.masker.n_src, model.encoder.filterbank.kernel_size,
                   device, precision, type(model).__name__)

    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def __call__(self, batch):
        with torch.inference_mode(), self._autocast():
            return self.module(batch).float()


class OnnxSeparator:
    """An exported ONNX file run by ONNX Runtime (CPU, or CUDA when asked for and installed).

    Args:
        path (str): a file written by :func:`asteroid_deepmask.deployment.export.export_model`.
        device (str): ``"cpu"`` or a CUDA device (``"cuda"``, ``"cuda:1"``).
    """

    precision = "32"

    def __init__(self, path, device="cpu"):
        import onnxruntime as ort

        metadata = read_export_metadata(path)
        self.device = torch.device(device)
        if self.device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ValueError(
                    f"--device {device}: this onnxruntime has no CUDA provider; install onnxruntime-gpu "
                    "or separate on the CPU (--device cpu)."
                )
            providers = [("CUDAExecutionProvider", {"device_id": self.device.index or 0}), "CPUExecutionProvider"]
        elif self.device.type == "cpu":
            providers = ["CPUExecutionProvider"]
        else:
            raise ValueError(f"--device {device}: ONNX models run on cpu or cuda.")
        try:
            self.session = ort.InferenceSession(os.fspath(path), providers=providers)
        except Exception as err:  # onnxruntime raises its own Fail / InvalidGraph classes
            raise ValueError(f"ONNX Runtime cannot load {os.fspath(path)!r}: {err}") from err
        self.path = os.fspath(path)
        self.sample_rate, self.n_src = float(metadata["sample_rate"]), int(metadata["n_src"])
        self.min_samples = int(metadata["min_samples"])
        self.input_name = self.session.get_inputs()[0].name
        self.description = f"{metadata.get('model_name', 'model')} (ONNX Runtime)"

    def __call__(self, batch):
        inputs = {self.input_name: batch.detach().to("cpu", torch.float32).contiguous().numpy()}
        return torch.from_numpy(self.session.run(None, inputs)[0]).to(self.device)


def load_separator(source, device="cpu", precision="32", revision=None):
    """A separator for ``source``: an exported ``.onnx`` / TorchScript file, a serialised
    ``.pth`` package, a hub folder or a hub repository id.

    Raises:
        ValueError: an unusable source or option (named in the message).
        FileNotFoundError: a path that does not exist.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    path = os.fspath(source)
    format = detect_export_format(path)
    if format == "onnx":
        if precision != "32":
            raise ValueError(
                f"--precision {precision} runs torch models under autocast; {path!r} is an ONNX model, which "
                "runs in float32: drop --precision or give the torch model."
            )
        return OnnxSeparator(path, device)
    if format == "torchscript":
        metadata = read_export_metadata(path)
        module = torch.jit.load(path, map_location="cpu")
        return TorchSeparator(module, metadata["sample_rate"], metadata["n_src"], metadata["min_samples"], device,
                              precision, f"{metadata.get('model_name', 'model')} (TorchScript)")
    from ..models import DeepMaskEncoderMaskerDecoder

    model = DeepMaskEncoderMaskerDecoder.from_pretrained(source, revision=revision)
    return TorchSeparator.from_model(model, device, precision)
