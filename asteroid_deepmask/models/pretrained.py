"""Reading models back: serialised packages (``serialize()``) and hub folders, without unpickling.

A hub folder holds ``model.safetensors`` (the weights), ``config.json`` (class name, model
arguments, measured complexity), ``pytorch_model.bin`` (Asteroid's model package, plain types
only, for ``asteroid.models.BaseModel.from_pretrained``) and a model card ``README.md``; this
module reads the first two. Writing and uploading folders is :mod:`asteroid_deepmask.models.hub_folder`.
"""
import json
import os
import pickle
import re
import zipfile

import torch

from ..version import __version__
from .registry import get_model_class

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
ASTEROID_WEIGHTS_NAME = "pytorch_model.bin"
CARD_NAME = "README.md"
HUB_FILES = (CONFIG_NAME, WEIGHTS_NAME, ASTEROID_WEIGHTS_NAME, CARD_NAME)
#: The ONNX export a hub folder holds when asked for (``save_pretrained(..., onnx=True)``).
ONNX_NAME = "model.onnx"
#: A causal model's streaming step (``save_pretrained(..., streaming_block_ms=10)``).
STREAMING_ONNX_NAME = "model_streaming.onnx"
#: The live browser page a hub folder holds when asked for (``save_pretrained(..., web=True)``,
#: :mod:`asteroid_deepmask.deployment.web`): a folder, served as is.
WEB_DIR = "web"

_PLAIN_TYPES = (str, int, float, bool, type(None))


def check_plain(value, where):
    """Raise if ``value`` holds anything a weights-only loader would refuse to read back."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; model args must be plain.")
            check_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN_TYPES):
        raise TypeError(
            f"{where}={value!r} is a {type(value).__name__}; model args must be str, int, float, "
            "bool, None, lists or dicts so that weights-only loading can read them."
        )


def load_checkpoint(path):
    """Read a serialised model with ``weights_only=True``; never unpickles arbitrary objects.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is corrupt, truncated, not a torch checkpoint, or holds objects
            that weights-only loading refuses (an untrusted or foreign pickle).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}: give the path of a file written by serialize().")
    _check_checkpoint_container(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(err))
        what = f"it names {found.group(1)}" if found else str(err).splitlines()[0]
        raise ValueError(
            f"Refusing to load {path!r}: it holds objects that weights-only loading does not "
            f"allow ({what}). Re-save it with serialize() from this package; "
            "only load pickles you trust, and never with weights_only=False."
        ) from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"Cannot read {path!r} as a torch checkpoint: the file is corrupt or truncated "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'})."
        ) from err


#: What the loaders take as a model, for the errors that refuse something else.
MODEL_FILES = ("a model package written by serialize() (.pth), a hub folder, a hub repository id, or a file "
                "written by `asteroid-deepmask export` (.onnx, TorchScript)")


def _check_checkpoint_container(path):
    """Refuse files that are not torch checkpoints at all, before torch.load guesses at them.

    torch.save writes a zip archive holding ``<name>/data.pkl`` (a legacy file starts with a
    pickle protocol byte); anything else (text, JSON, images, other archives) is not a model.
    """
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as err:
            raise ValueError(f"Cannot read {path!r}: a damaged zip archive ({err}).") from err
        if not any(name.endswith("data.pkl") for name in names):
            raise ValueError(f"{path!r} is a zip archive but not a torch checkpoint; a model is {MODEL_FILES}.")
        return
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":
        raise ValueError(f"Cannot read {path!r}: a zip archive (torch checkpoint format) that is corrupt or "
                         "truncated; copy or download it again.")
    if len(head) < 2 or head[0] != 0x80 or not 2 <= head[1] <= 5:  # pickle protocol 2-5 marker
        raise ValueError(f"{path!r} is not a model file (neither a torch checkpoint nor an exported model); "
                         f"a model is {MODEL_FILES}.")


def looks_like_repo_id(source):
    """``user/name`` that is no local path: a hub repository id."""
    source = os.fspath(source)
    return (
        not os.path.exists(source)
        and re.fullmatch(r"[\w.-]+/[\w.-]+", source) is not None
        and not source.endswith((".pth", ".pt", ".bin", ".ckpt"))
    )


def read_config(folder):
    """The ``config.json`` of a hub folder, checked."""
    path = os.path.join(folder, CONFIG_NAME)
    try:
        with open(path) as f:
            config = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{folder!r} has no {CONFIG_NAME}: it is not a hub folder written by save_pretrained(); "
                         f"a model is {MODEL_FILES}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is corrupt or truncated: {err}.") from err
    if not isinstance(config, dict) or "model_name" not in config or "model_args" not in config:
        raise ValueError(f"{path} lacks model_name / model_args: not a config written by save_pretrained().")
    return config


def load_pretrained(source, revision=None, expected_class=None, model_args=None, **download):
    """Build a model from a hub folder or a hub repository id (downloaded, then cached).

    Args:
        source (str): a local folder or ``"user/repo"``.
        revision (str, optional): branch, tag or commit of a hub repository.
        expected_class (type, optional): refuse a folder holding another class, naming it.
        model_args (dict, optional): arguments that override those of ``config.json``.
        **download: options of ``huggingface_hub.snapshot_download`` for a repository id
            (``cache_dir``, ``force_download``, ``local_files_only``, ``token``).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if os.path.isdir(source):
        folder = source
    else:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(
            repo_id=source, revision=revision, allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME],
            library_name="asteroid-deepmask", library_version=__version__, **download,
        )
    config = read_config(folder)
    name = config["model_name"]
    if expected_class is not None and name != expected_class.__name__:
        raise ValueError(
            f"{source!r} holds a {name}, not a {expected_class.__name__}: load it with {name}.from_pretrained(...)."
        )
    weights = os.path.join(folder, WEIGHTS_NAME)
    try:
        state = load_file(weights)
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder!r} has no {WEIGHTS_NAME}.") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{weights} is corrupt or truncated ({err}).") from err
    model = get_model_class(name)(**{**config["model_args"], **(model_args or {})})
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"The weights in {weights} do not fit a {name} built from its config: {err}") from err
    return model
