"""A static folder that separates the microphone live in the browser: ``asteroid-deepmask web``.

The folder holds the causal model's streaming step (:func:`~.streaming_export.export_streaming_model`,
``model.onnx``), ``model.json`` for the page (the file's own metadata, :func:`~.export.read_export_metadata`,
read back once), the page (``web_page/`` of this package: ``index.html`` and its scripts) and the
onnxruntime-web files it runs the step with, in ``ort/`` (:mod:`~.web_runtime`). Any static web server
serves it (``python -m http.server -d FOLDER``); the page runs on the visitor's CPU and fetches nothing
from elsewhere.

In the page, an AudioWorklet resamples the microphone (or a dropped WAV file) to the model's rate and
cuts it into the file's blocks; a Worker runs the step fed its own states, every name, shape and dtype
taken from the metadata; the chosen source plays at the device's rate. WebAssembly runs on one thread,
which needs no server headers, and on several where the server sends the cross-origin isolation headers
(``crossOriginIsolated``). ``index.html?file=URL`` and ``index.html?mic=SECONDS`` are the page's
automation contract (``web_page/app.js``).
"""
import json
import os
import shutil
from importlib import resources

from ..utils.atomic import scratch_folder
from ..version import __version__
from .export import read_export_metadata
from .streaming_export import block_samples, export_streaming_model
from .web_runtime import PACKAGE, VERSION, copy_runtime

MODEL_FILE, INFO_FILE, RUNTIME_DIR = "model.onnx", "model.json", "ort"
#: ``model.json``'s mark of a folder this module wrote (which it may rewrite without ``force``).
MADE_BY = "asteroid-deepmask web"
PAGE_FILES = ("index.html", "app.js", "worker.js", "worklet.js", "resampler.js", "wav.js", "style.css")


def made_by_us(folder):
    """Whether ``folder`` is a page folder :func:`build_web_folder` wrote (its ``model.json`` says so)."""
    try:
        with open(os.path.join(folder, INFO_FILE)) as f:
            return json.load(f).get("made_by") == MADE_BY
    except (OSError, ValueError, AttributeError):
        return False


def _check_folder(folder, force):
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{folder!r} is a file; give a folder for the page (-o DIR).")
    if os.path.isdir(folder) and os.listdir(folder) and not made_by_us(folder) and not force:
        raise ValueError(f"{folder!r} is not empty and was not written by `{MADE_BY}`; give a new folder, or pass "
                         "--force to write the page's files into it.")


def build_web_folder(model, folder, block=None, quantize=None, runtime=None, force=False):
    """Write the live-separation page of the causal ``model`` into ``folder``; returns what was written.

    A folder this function wrote before is replaced whole; a non-empty folder of anything else is refused
    unless ``force``, and then only the page's files are written into it (nothing else is removed).
    The folder is built beside its final place and moved there once complete.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model (``causal=True``).
        folder (str): the folder to write.
        block (int, optional): samples per block, a whole multiple of the encoder's stride; by default
            :func:`~.streaming_export.block_samples`'s (10 ms, rounded up to whole strides).
        quantize (str, optional): ``"int8"``: the step in dynamic int8 (:func:`~.export.export_model`).
        runtime (str, optional): where onnxruntime-web 1.30.0 comes from (:func:`~.web_runtime.find_runtime`).
        force (bool): write into a non-empty folder that this function did not write.

    Returns:
        dict: ``folder``, ``block`` (samples), ``latency`` (samples), ``sample_rate``, ``n_src``, ``bytes``
        (the folder's size) and ``runtime_bytes`` (the ``ort/`` part of it).

    Raises:
        ValueError: the model is not causal (the message names ``causal=True``), the block is not whole
            strides, or the folder is refused.
        SetupError: onnxruntime-web is not found (the message says how to get it).

    Example:
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> import tempfile
        >>> model = DPRNNDeepMask(n_src=2, n_filters=16, bn_chan=8, hid_size=8)  # not causal
        >>> build_web_folder(model, tempfile.mkdtemp())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: DPRNNDeepMask is not causal: ...build the model with causal=True...
    """
    folder = os.path.abspath(os.fspath(folder))
    _check_folder(folder, force)
    block = block_samples(model) if block is None else block
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    # a hidden scratch folder beside the page's, which a killed run's successor removes
    with scratch_folder(os.path.join(parent, f".{os.path.basename(folder)}")) as staging:
        export_streaming_model(model, os.path.join(staging, MODEL_FILE), block, quantize=quantize)
        runtime_bytes = copy_runtime(os.path.join(staging, RUNTIME_DIR), runtime)
        page = resources.files(__package__).joinpath("web_page")
        for name in PAGE_FILES:
            with open(os.path.join(staging, name), "wb") as f:
                f.write(page.joinpath(name).read_bytes())
        metadata = read_export_metadata(os.path.join(staging, MODEL_FILE))
        info = dict(made_by=MADE_BY, asteroid_deepmask_version=__version__, model=MODEL_FILE,
                    onnxruntime_web=VERSION, metadata=metadata)
        with open(os.path.join(staging, INFO_FILE), "w") as f:
            json.dump(info, f, indent=1)
        size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(staging) for f in files)
        _move_into_place(staging, folder)
    return dict(folder=folder, block=block, latency=metadata["latency"], sample_rate=metadata["sample_rate"],
                n_src=metadata["n_src"], bytes=size, runtime_bytes=runtime_bytes)


def _move_into_place(staging, folder):
    """Make ``folder`` the staged one: replace it whole when it is ours or empty, else only our entries in it."""
    if os.path.isdir(folder) and (made_by_us(folder) or not os.listdir(folder)):
        shutil.rmtree(folder)
    if not os.path.exists(folder):
        os.replace(staging, folder)
        return
    for name in os.listdir(staging):  # --force into someone's folder: our entries only
        target = os.path.join(folder, name)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        os.replace(os.path.join(staging, name), target)


def describe(written):
    """The line ``asteroid-deepmask web`` prints about a folder.

    Args:
        written (dict): what :func:`build_web_folder` returned.
    """
    rate = written["sample_rate"]
    return (f"Wrote the live page to {written['folder']} ({written['bytes'] / 1e6:.1f} MB, of which "
            f"{PACKAGE} {VERSION} {written['runtime_bytes'] / 1e6:.1f} MB); blocks of {written['block']} samples "
            f"({1000 * written['block'] / rate:g} ms at {rate:g} Hz), {written['n_src']} sources. Serve it with "
            f"`python -m http.server -d {written['folder']} 8000` and open http://localhost:8000")
