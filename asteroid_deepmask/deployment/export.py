"""Exporting a model for deployment: ONNX or TorchScript files that carry their own metadata.

An exported file maps a mixture ``[batch, time]`` (float32, at the model's sample rate) to
sources ``[batch, n_src, time]``, for any batch size and length (both axes are dynamic). It
holds a JSON record under the key :data:`METADATA_KEY` (ONNX ``metadata_props``, a TorchScript
extra file): model name, sample rate, number of sources, the shortest input it takes, the
package version and the model arguments. :func:`read_export_metadata` reads it back and
refuses files that lack it.

Both formats come from ``torch.jit.trace``. The ONNX file uses torch's TorchScript-based
exporter: the newer ``torch.export`` path rejects Asteroid's normalisation layers, which
compute their reduction axes from data. In the ONNX graph those layers compute their statistics
centred (:mod:`asteroid_deepmask.masknn.norm_statistics`), which ONNX Runtime keeps within 1e-5
of eager torch on long inputs.
"""
import copy
import json
import os
import zipfile

import torch

from ..utils.atomic import atomic_paths
from ..utils.library_noise import library_warnings_ignored
from ..masknn.norm_statistics import centre_norm_statistics
from ..version import __version__

FORMATS = ("onnx", "torchscript")
#: Key of the metadata record in an ONNX file's ``metadata_props`` and TorchScript extra file name.
METADATA_KEY = "asteroid_deepmask"
INPUT_NAME, OUTPUT_NAME = "mixture", "sources"
_ARTICLED = {"onnx": "an ONNX", "torchscript": "a TorchScript"}
_SUFFIXES = {".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript", ".torchscript": "torchscript"}


def export_format(path, format=None):
    """The export format for ``path``: ``format`` if given, else from the file name's suffix."""
    if format is None:
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix not in _SUFFIXES:
            raise ValueError(
                f"Cannot tell the export format from {os.fspath(path)!r}: name it *.onnx or *.pt "
                f"(TorchScript), or give the format ({', '.join(FORMATS)})."
            )
        return _SUFFIXES[suffix]
    if format not in FORMATS:
        raise ValueError(f"Unknown export format {format!r}: choose one of {', '.join(FORMATS)}.")
    return format


def export_metadata(model):
    """The metadata record written into an exported file of ``model``."""
    return dict(
        model_name=type(model).__name__,
        sample_rate=float(model.sample_rate),
        n_src=int(model.masker.n_src),
        min_samples=int(model.encoder.filterbank.kernel_size),
        asteroid_deepmask_version=__version__,
        model_args=model.get_model_args(),
    )


def export_model(model, path, format=None, opset=None, example_seconds=1.0, quantize=None):
    """Write ``model`` to ``path`` as ONNX or TorchScript; returns ``path``.

    Args:
        model (DeepMaskEncoderMaskerDecoder): the model (any device; it is exported from a CPU copy).
        path (str): output file; written under a temporary name and renamed when complete.
        format (str, optional): ``"onnx"`` or ``"torchscript"``; by default from the suffix
            (``.onnx``; ``.pt``, ``.ts``, ``.torchscript``).
        opset (int, optional): ONNX opset; defaults to the pinned torch exporter's default.
        example_seconds (float): length of the random input traced; the file takes any length.
        quantize (str, optional): ``"int8"``: its LSTM, GRU, Linear and 1x1 convolution layers in dynamic int8
            (:mod:`~asteroid_deepmask.deployment.quantization`); the metadata's ``quantization``
            entry says what was quantized.

    Example:
        >>> import os, tempfile
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> model = DPRNNDeepMask(n_src=2, n_filters=16, bn_chan=16, hid_size=8, n_repeats=1)
        >>> path = export_model(model, os.path.join(tempfile.mkdtemp(), "model.pt"))
        >>> read_export_metadata(path)["n_src"]
        2
    """
    path = os.fspath(path)
    format = export_format(path, format)
    metadata = export_metadata(model)
    cpu_model = cpu_float_copy(model)
    example = torch.randn(1, max(int(example_seconds * metadata["sample_rate"]), 4 * metadata["min_samples"]))
    axes = {INPUT_NAME: {0: "batch", 1: "time"}, OUTPUT_NAME: {0: "batch", 2: "time"}}
    write_export(cpu_model, (example,), path, format, metadata, opset, [INPUT_NAME], [OUTPUT_NAME], axes, quantize)
    return path


def cpu_float_copy(model):
    """A float32 copy of ``model`` on the CPU in eval mode, to export."""
    return copy.deepcopy(model).cpu().float().eval()


def write_export(model, example, path, format, metadata, opset, input_names, output_names, dynamic_axes,
                 quantize=None, wrap=None):
    """Trace ``wrap(model)`` (``model`` itself by default) on the ``example`` inputs into ``path``, an ONNX or
    TorchScript file carrying ``metadata``: the one writer of every export. In ONNX, layer norms compute
    centred statistics (see the module docstring).

    With ``quantize="int8"``, ``model`` is first put in its :func:`~.quantization.prepare_int8` form;
    TorchScript traces torch's int8 of that form and ONNX runs ONNX Runtime's quantizer on its float32 graph
    (:mod:`~asteroid_deepmask.deployment.quantization`).
    The file is written under a temporary name and renamed when complete.
    """
    from .quantization import INT8, prepare_int8, quantization_metadata, quantize_onnx_int8, quantize_prepared_int8

    if quantize not in (None, INT8):
        raise ValueError(f"Unknown quantization {quantize!r}: the one offered is {INT8!r} (dynamic int8).")
    wrap = wrap or (lambda module: module)
    if quantize:
        engine = "onnxruntime" if format == "onnx" else "torch"
        model = prepare_int8(model)
        metadata = {**metadata, "quantization": quantization_metadata(model, engine)}
    # Tracer and exporter warnings are about code paths the tracing-aware modules already handle
    # (shape checks are eager-only); a user exporting a model cannot act on them.
    with atomic_paths(path) as (tmp,), library_warnings_ignored(), torch.no_grad():
        if format == "onnx":
            graph = tmp + ".float32.onnx" if quantize else tmp
            try:
                torch.onnx.export(
                    centre_norm_statistics(wrap(model)), example, graph, input_names=input_names,
                    output_names=output_names, dynamic_axes=dynamic_axes, opset_version=opset or _default_opset(),
                    dynamo=False,
                )
                if quantize:
                    quantize_onnx_int8(graph, tmp)
            finally:
                if quantize and os.path.exists(graph):
                    os.remove(graph)
            _write_onnx_metadata(tmp, metadata)
        else:
            module = wrap(quantize_prepared_int8(model) if quantize else model)
            traced = torch.jit.trace(module, example, check_trace=False)
            torch.jit.save(traced, tmp, _extra_files={f"{METADATA_KEY}.json": json.dumps(metadata)})


def _default_opset():
    from torch.onnx._constants import ONNX_DEFAULT_OPSET

    return ONNX_DEFAULT_OPSET


def _write_onnx_metadata(path, metadata):
    """Stamp ``metadata`` and our name into the ONNX file at ``path``, and check it."""
    import onnx

    proto = onnx.load(path)
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    proto.producer_name, proto.producer_version = "asteroid-deepmask", __version__
    # The full check infers shapes with ONNX's own operators only; int8 graphs hold ONNX Runtime's.
    onnx.checker.check_model(proto, full_check="quantization" not in metadata)
    onnx.save(proto, path)


def detect_export_format(path):
    """``"onnx"``, ``"torchscript"`` or None (not an exported file) for the file at ``path``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        return None
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        # TorchScript archives hold compiled code; torch.save checkpoints only data.pkl.
        return "torchscript" if any(n.endswith("/constants.pkl") or "/code/" in n for n in names) else None
    return "onnx" if path.lower().endswith(".onnx") else None


def read_export_metadata(path):
    """The metadata record of an exported file (see the module docstring).

    Raises:
        ValueError: the file is not an ONNX or TorchScript model, or is one that this package did
            not export (no metadata).
    """
    path = os.fspath(path)
    format = detect_export_format(path)
    if format == "onnx":
        import onnx

        try:
            proto = onnx.load(path, load_external_data=False)
        except Exception as err:  # onnx raises DecodeError, ValueError, ... for non-ONNX bytes
            raise ValueError(f"Cannot read {path!r} as an ONNX model ({type(err).__name__}: {err}).") from err
        raw = {p.key: p.value for p in proto.metadata_props}.get(METADATA_KEY)
    elif format == "torchscript":
        extra = {f"{METADATA_KEY}.json": ""}
        try:
            torch.jit.load(path, map_location="cpu", _extra_files=extra)
        except RuntimeError as err:
            raise ValueError(f"Cannot read {path!r} as a TorchScript model: {str(err).splitlines()[0]}") from err
        raw = extra[f"{METADATA_KEY}.json"] or None
    else:
        raise ValueError(f"{path!r} is not an exported model: expected an ONNX (.onnx) or TorchScript file.")
    if raw is None:
        raise ValueError(
            f"{path!r} is {_ARTICLED[format]} model but not one exported by asteroid-deepmask (it has no "
            f"{METADATA_KEY!r} metadata: sample rate, sources); export it with `asteroid-deepmask export`."
        )
    try:
        metadata = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"The {METADATA_KEY!r} metadata of {path!r} is not valid JSON ({err}).") from err
    missing = [k for k in ("sample_rate", "n_src", "min_samples") if k not in metadata]
    if missing:
        raise ValueError(f"The {METADATA_KEY!r} metadata of {path!r} lacks {missing}; re-export the model.")
    return metadata
