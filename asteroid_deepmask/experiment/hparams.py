"""Experiment files (``hparams/*.yaml``): loading with ``extends`` and command-line overrides.

An experiment file may name a parent under ``extends`` (a path relative to the file); the
child's keys are merged over the parent's, recursively. Overrides are ``dotted.key=value``
strings whose value is read as YAML (``model.n_outputs=8``, ``model.mask_act=none``).
"""
import os
from importlib import resources

import yaml


def hparams_dir():
    """Folder of the experiment files shipped with the package (the repository's ``hparams/``)."""
    return str(resources.files("asteroid_deepmask.hparams"))


def _deep_merge(base, child):
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No experiment file at {path!r}; the shipped ones are under {hparams_dir()!r}."
        )
    with open(path) as f:
        try:
            data = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"{path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping of sections, got {type(data).__name__}.")
    return data


def apply_overrides(hparams, overrides):
    """Return a copy of ``hparams`` with ``dotted.key=value`` overrides applied."""
    result = _deep_merge(hparams, {})
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"Override {item!r} must look like section.key=value (e.g. model.n_outputs=8).")
        *parents, leaf = key.split(".")
        node = result
        for part in parents:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[leaf] = yaml.safe_load(raw)
    return result


def load_hparams(path, overrides=()):
    """Load an experiment file, resolving ``extends`` chains, then apply ``overrides``.

    Example:
        >>> import os
        >>> hp = load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", "p4_relu.yaml"),
        ...                   ["model.mask_act=none"])
        >>> hp["model"]["n_outputs"], hp["model"]["mask_act"], hp["optim"]["lr"]
        (4, 'none', 0.001)
    """
    chain, seen, current = [], set(), os.path.abspath(os.fspath(path))
    while current is not None:
        if current in seen:
            raise ValueError(f"'extends' loops back to {current}.")
        seen.add(current)
        data = _read_yaml(current)
        parent = data.pop("extends", None)
        chain.append(data)
        current = os.path.join(os.path.dirname(current), parent) if parent else None
    hparams = {}
    for data in reversed(chain):
        hparams = _deep_merge(hparams, data)
    return apply_overrides(hparams, overrides)
