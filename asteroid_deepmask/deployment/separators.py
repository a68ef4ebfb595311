"""Separators: one calling convention over a torch model, a TorchScript file and an ONNX file.

Every separator follows :class:`Separator`. The windowed file separation
(:mod:`asteroid_deepmask.deployment.long_files`) and the recipes' evaluation
(:mod:`asteroid_deepmask.recipe.evaluation`) run on any of them, so windows, alignment,
cross-fades and scores are the same whatever the backend.
"""
import contextlib
import copy
import os
from typing import Protocol, runtime_checkable

import torch

from ..masknn.norm_statistics import centre_norm_statistics
from ..models.pretrained import looks_like_repo_id
from ..utils.cpu_bf16 import lstm_in_float32_without_cpu_bf16, warn_if_bf16_emulated
from .export import detect_export_format, export_metadata, read_export_metadata
from .quantization import INT8, quantize_int8

#: ``"32"``: float32. ``"bf16"``: a torch model under bfloat16 autocast (float32 outputs). ``"int8"``: a
#: torch model with its recurrent, linear and 1x1 convolution layers in dynamic int8, on the CPU (:mod:`.quantization`);
#: an exported file's precision is the one it was exported in.
PRECISIONS = ("32", "bf16", INT8)


def check_device(device):
    """``device`` as a ``torch.device``, or a ValueError naming it and the fix: a name torch does not know,
    or CUDA on a machine where torch sees no CUDA GPU (before a model is moved there and fails deep in torch)."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"Unknown device {device!r} ({err}); give cpu or cuda.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: this machine has no CUDA GPU that torch can use; use --device cpu.")
    return device


def check_precision(precision, device="cpu"):
    """Raise ValueError for an unusable ``device`` (:func:`check_device`), a precision that is not in
    :data:`PRECISIONS`, or int8 off the CPU; warn when bf16 would run emulated
    (:func:`~asteroid_deepmask.utils.cpu_bf16.warn_if_bf16_emulated`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    # int8 off the CPU is refused on any machine, before asking whether this one has the device
    if precision == INT8 and str(device).split(":")[0] != "cpu":
        raise ValueError(f"--precision int8 runs on the CPU (dynamic int8 kernels), not on {device}: use "
                         "--device cpu, or bf16 on a GPU.")
    device = check_device(device)
    if precision == "bf16":
        warn_if_bf16_emulated(device.type)


def file_precision(metadata):
    """The precision an exported file runs in: ``"int8"`` when it was exported quantized, else ``"32"``."""
    return metadata.get("quantization", {}).get("dtype", "32")


def check_file_precision(path, metadata, precision, bf16_allowed=False):
    """Raise ValueError when ``precision`` is asked of the exported file at ``path``: an export runs in the
    precision it was exported in; bf16 autocast applies to a float32 TorchScript file only (``bf16_allowed``)."""
    exported = file_precision(metadata)
    if precision == "32" or (precision == "bf16" and bf16_allowed and exported == "32"):
        return
    raise ValueError(
        f"--precision {precision} applies to a torch model; {path!r} is an export, which runs in the precision it "
        f"was exported in ({'float32' if exported == '32' else exported}): drop --precision, give the model's hub "
        "folder or .pth file, or export it with --quantize int8."
    )


@runtime_checkable
class Separator(Protocol):
    """What every separator offers, whatever runs the model.

    A separator maps a batch of mono mixtures ``[batch, time]`` (float32 torch tensor on
    :attr:`device`, at :attr:`sample_rate`, at least :attr:`min_samples` long) to their sources
    ``[batch, n_src, time]`` (float32, same device), without gradients. :attr:`metadata` is the
    record an exported file carries (:func:`~asteroid_deepmask.deployment.export.export_metadata`:
    model name and arguments, package version); :attr:`backend` and :attr:`precision` say what runs
    it. A separator of another kind (a streaming one, for instance) offers these too, beside its
    own methods.

    Example:
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> separator = load_separator(DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1))
        >>> isinstance(separator, Separator), separator.backend, separator.n_src
        (True, 'torch', 2)
        >>> separator(torch.zeros(3, 800)).shape
        torch.Size([3, 2, 800])
    """

    #: Sample rate (Hz) the model takes and gives.
    sample_rate: float
    #: Number of sources ``n_src``.
    n_src: int
    #: The shortest input, in samples.
    min_samples: int
    #: Where inputs and outputs live.
    device: torch.device
    #: ``"torch"``, ``"torchscript"`` or ``"onnxruntime"``.
    backend: str
    #: One of :data:`PRECISIONS`.
    precision: str
    #: The model's export metadata.
    metadata: dict

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """Sources ``[batch, n_src, time]`` of mixtures ``[batch, time]``."""
        ...


def n_outputs(metadata):
    """The number P of a model's outputs before grouping, from its export metadata."""
    return int(metadata["model_args"].get("n_outputs") or metadata["n_src"])


class AllOutputs(torch.nn.Module):
    """A package model whose call gives its P outputs before grouping (``forward_outputs``)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, wav):
        return self.model.forward_outputs(wav)


def _take_metadata(separator, metadata):
    # The attributes of the protocol come from the one record that an exported file also carries.
    separator.metadata = metadata
    separator.sample_rate, separator.n_src = float(metadata["sample_rate"]), int(metadata["n_src"])
    separator.min_samples = int(metadata["min_samples"])


class TorchSeparator(Separator):
    """A torch module (a package model or a loaded TorchScript file) as a separator.

    Args:
        module (torch.nn.Module): maps ``[batch, time]`` to ``[batch, n_src, time]``.
        metadata (dict): the model's export metadata (at least ``sample_rate``, ``n_src``,
            ``min_samples``).
        device (str): torch device the module runs on.
        precision (str): one of :data:`PRECISIONS`.
        backend (str): ``"torch"`` or ``"torchscript"``.
    """

    def __init__(self, module, metadata, device="cpu", precision="32", backend="torch"):
        check_precision(precision, device)
        _take_metadata(self, metadata)
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        self.precision, self.backend = precision, backend

    @classmethod
    def from_model(cls, model, device="cpu", precision="32", all_outputs=False):
        """A separator running a package model (a :class:`DeepMaskEncoderMaskerDecoder`).

        In bf16, it runs a copy whose layer norms compute their statistics in float32
        (:mod:`asteroid_deepmask.masknn.norm_statistics`): faster than bfloat16 variances on the
        CPU, and closer to the float32 output. In int8, a copy with its recurrent, linear and 1x1 convolution layers
        in dynamic int8 (:func:`~.quantization.quantize_int8`). With ``all_outputs`` it gives the model's
        P outputs before grouping (``forward_outputs``): its ``n_src`` is then P.

        Example:
            >>> from asteroid_deepmask import DPRNNDeepMask
            >>> model = DPRNNDeepMask(n_src=2, n_outputs=4, hid_size=8, n_repeats=1)
            >>> TorchSeparator.from_model(model, all_outputs=True)(torch.zeros(1, 800)).shape
            torch.Size([1, 4, 800])
        """
        check_precision(precision, device)
        module = model
        if precision == "bf16":
            module = centre_norm_statistics(copy.deepcopy(model), torch.float32)
        elif precision == INT8:
            module = quantize_int8(model)
        metadata = export_metadata(model)
        if all_outputs:
            module, metadata = AllOutputs(module), {**metadata, "n_src": n_outputs(metadata)}
        return cls(module, metadata, device, precision)

    def _autocast(self):
        if self.precision == "bf16":
            stack = contextlib.ExitStack()
            stack.enter_context(lstm_in_float32_without_cpu_bf16(self.device.type))
            stack.enter_context(torch.autocast(device_type=self.device.type, dtype=torch.bfloat16))
            return stack
        return contextlib.nullcontext()

    def __call__(self, batch):
        with torch.inference_mode(), self._autocast():
            return self.module(batch).float()


class OnnxSeparator(Separator):
    """An exported ONNX file run by ONNX Runtime (CPU, or CUDA when asked for and installed).

    Args:
        path (str): a file written by :func:`asteroid_deepmask.deployment.export.export_model`.
        device (str): ``"cpu"`` or a CUDA device (``"cuda"``, ``"cuda:1"``).
    """

    backend = "onnxruntime"

    def __init__(self, path, device="cpu"):
        import onnxruntime as ort

        _take_metadata(self, read_export_metadata(path))
        self.precision = file_precision(self.metadata)
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
        self.path, self.input_name = os.fspath(path), self.session.get_inputs()[0].name

    def __call__(self, batch):
        inputs = {self.input_name: batch.detach().to("cpu", torch.float32).contiguous().numpy()}
        return torch.from_numpy(self.session.run(None, inputs)[0]).to(self.device)


def all_outputs_separator(source, separator, device="cpu", precision="32"):
    """The separator of the P outputs of ``source`` (loaded as ``separator``) when its model is
    overseparated (P > C) and runs in torch; None otherwise (exports give the grouped outputs only;
    a given separator is taken as it is)."""
    if isinstance(source, Separator) or separator.backend != "torch" or n_outputs(separator.metadata) == separator.n_src:
        return None
    return load_separator(source, device, precision, all_outputs=True)


def load_separator(source, device="cpu", precision="32", revision=None, all_outputs=False):
    """The separator for ``source``: the one entry to every backend.

    Args:
        source: an exported ``.onnx`` (ONNX Runtime) or TorchScript file, a serialised ``.pth``
            package, a hub folder, a hub repository id, a package model (run by torch), or a
            :class:`Separator` (returned as it is, with its own device and precision).
        device (str): where the model runs (``cpu``, ``cuda``, ``cuda:1``).
        precision (str): one of :data:`PRECISIONS`; ``bf16`` needs a torch or TorchScript model, ``int8``
            a package model (an exported file runs in the precision it was exported in).
        revision (str, optional): hub revision of a repository id.
        all_outputs (bool): separate into the P outputs before grouping (an overseparated model's;
            ``n_src`` is then P). Exported files hold the grouped outputs only, so they are refused
            when P > C; a given separator is returned as it is.

    Raises:
        ValueError: an unusable source or option (named in the message).
        FileNotFoundError: a path that does not exist.
    """
    if isinstance(source, Separator):
        return source
    check_precision(precision, device)
    if isinstance(source, torch.nn.Module):
        return TorchSeparator.from_model(source, device, precision, all_outputs)
    path = os.fspath(source)
    if not os.path.exists(path) and not looks_like_repo_id(path):
        raise FileNotFoundError(f"No model at {path!r}: give an exported .onnx or .pt file, a hub folder, a .pth "
                                "file written by serialize(), or a hub repository id (user/name).")
    format = detect_export_format(path)
    metadata = read_export_metadata(path) if format else None
    if metadata and metadata.get("streaming"):
        raise ValueError(f"{path!r} is a streaming export (one block at a time, with states): run it with "
                         "`asteroid-deepmask stream`, or export without --streaming to separate whole files.")
    if all_outputs and metadata and n_outputs(metadata) > metadata["n_src"]:
        raise ValueError(f"{path!r} is an export, which gives the {metadata['n_src']} grouped sources, not the "
                         f"model's {n_outputs(metadata)} outputs: give the model's hub folder or .pth file.")
    if format:
        check_file_precision(path, metadata, precision, bf16_allowed=format == "torchscript")
    if format == "onnx":
        return OnnxSeparator(path, device)
    if format == "torchscript":
        precision = INT8 if file_precision(metadata) == INT8 else precision
        return TorchSeparator(torch.jit.load(path, map_location="cpu"), metadata, device, precision, "torchscript")
    from ..models import DeepMaskEncoderMaskerDecoder

    model = DeepMaskEncoderMaskerDecoder.from_pretrained(source, revision=revision)
    return TorchSeparator.from_model(model, device, precision, all_outputs)
