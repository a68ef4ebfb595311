"""Checks of an experiment file (``hparams/*.yaml``) before training writes anything.

:func:`check_experiment` names a missing section or key, a key that training does not read
(with the closest known one), and a value of the wrong type, in one ValueError each. The
``model`` section is checked by the model's constructor (its arguments); ``data`` keys are read
by several steps (manifests, corpora), so only those training needs are checked there.
:func:`check_same_experiment` refuses to train into a folder that holds another experiment.
"""
from ..utils.checks import check_known_arguments


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(value):
    return _number(value) and value > 0


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _boolean(value):
    return isinstance(value, bool)


def _string(value):
    return isinstance(value, str)


def _anything(value):
    return True


_KINDS = {
    _number: "a number",
    _positive: "a number > 0",
    _positive_int: "an integer >= 1",
    _count: "an integer >= 0",
    _boolean: "true or false",
    _string: "a string",
}

#: ``{section: {key: (required, check)}}``: what training reads; a key whose values its reader
#: checks (names among choices) is only a string here.
SCHEMA = {
    "data": {"sample_rate": (True, _positive), "segment": (True, _positive)},
    "training": {
        "batch_size": (True, _positive_int), "max_epochs": (True, _positive_int),
        "early_stop_patience": (True, _positive_int), "seed": (False, _count), "loss": (False, _string),
        "grouping": (False, _string), "unsupervised_mixit": (False, _boolean), "gradient_clip_norm": (False, _positive),
        "max_nonfinite_batches": (False, _count), "precision": (False, _anything),
        "accumulate_grad_batches": (False, _positive_int), "num_workers": (False, _anything),
    },
    "optim": {"optimizer": (False, _string), "lr": (True, _positive), "weight_decay": (False, _number)},
    "scheduler": {"factor": (False, _positive), "patience": (False, _count)},
}
#: Sections whose every key training reads (others may hold keys for other steps).
_CLOSED = ("training", "optim", "scheduler")
#: Keys that may change between the runs of one experiment (resuming to train longer, on other hardware).
RESUMABLE_CHANGES = ("training.max_epochs", "training.early_stop_patience", "training.num_workers")


def check_experiment(hparams, source="the experiment file"):
    """Raise a ValueError naming the first missing, unknown or mistyped key of ``hparams``.

    Args:
        hparams (dict): a loaded experiment file (:func:`~asteroid_deepmask.experiment.hparams.load_hparams`).
        source (str): how the messages name the file.

    Example:
        >>> check_experiment({"model": {"name": "DPRNNDeepMask"}, "data": {"sample_rate": 8000, "segment": 4.0},
        ...                   "training": {"batch_size": 4, "max_epoch": 10, "early_stop_patience": 5},
        ...                   "optim": {"lr": 0.001}, "scheduler": {}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        asteroid_deepmask.utils.checks.UnknownArgumentError: The training section of the experiment file got an unknown argument 'max_epoch' (did you mean 'max_epochs'?); it takes ...
    """
    for section in ("model", *SCHEMA):
        if not isinstance(hparams.get(section), dict):
            found = f"no {section!r} section" if section not in hparams else f"{section}: {hparams[section]!r}"
            raise ValueError(f"{source} has {found}; it needs a mapping of {section} settings (see the files "
                             "under hparams/).")
    for section, keys in SCHEMA.items():
        given = hparams[section]
        if section in _CLOSED:
            check_known_arguments(f"The {section} section of {source}", given, keys)
        for key, (required, check) in keys.items():
            if key not in given:
                if required:
                    raise ValueError(f"{source} has no {section}.{key}; give it ({_KINDS.get(check, 'a value')}).")
            elif not check(given[key]):
                raise ValueError(f"{section}.{key}={given[key]!r} in {source}; give {_KINDS[check]}.")


def flat_hparams(tree, prefix=""):
    """``{dotted.key: value}`` of the leaves of nested dicts (an experiment file).

    Example:
        >>> flat_hparams({"model": {"name": "DPRNNDeepMask"}, "optim": {"lr": 0.001}})
        {'model.name': 'DPRNNDeepMask', 'optim.lr': 0.001}
    """
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flat_hparams(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differing_keys(a, b, ignore=(), set_in_both=False):
    """Dotted keys whose values differ between experiment files ``a`` and ``b``, ``ignore`` aside.

    A key that one file does not set differs unless ``set_in_both``: then it is taken for a default
    that a later version of the package added, with the earlier behaviour (right for reading old
    results; resuming into a folder stays strict, since a key left out can also mean another value).

    Example:
        >>> a, b = {"training": {"seed": 0, "loss": "neg_snr"}}, {"training": {"seed": 1, "precision": 32}}
        >>> differing_keys(a, b), differing_keys(a, b, set_in_both=True)
        (['training.loss', 'training.precision', 'training.seed'], ['training.seed'])
    """
    a, b = flat_hparams(a), flat_hparams(b)
    keys = a.keys() & b.keys() if set_in_both else a.keys() | b.keys()
    return sorted(k for k in keys if a.get(k) != b.get(k) and k not in ignore)


def check_same_experiment(previous, hparams, where):
    """Raise a ValueError unless ``hparams`` is the experiment ``previous`` (read from ``where``), up to
    :data:`RESUMABLE_CHANGES`: training into a folder resumes its run, which another experiment cannot do."""
    changed = differing_keys(previous, hparams, RESUMABLE_CHANGES)
    old, new = flat_hparams(previous), flat_hparams(hparams)
    if changed:
        shown = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:4])
        more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        raise ValueError(f"{where} holds another experiment ({shown}{more}); train into another folder (--exp), "
                         "or give the same settings to resume it.")
