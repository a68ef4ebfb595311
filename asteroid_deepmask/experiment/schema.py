"""The one gate of an experiment file (``hparams/*.yaml``): every key and value training reads,
checked before anything is written.

:func:`check_experiment` names a missing section or key, a key that training does not read
(with the closest known one), and a value of the wrong type or outside its allowed values
(choices, ranges, the optimiser, the precision a CPU can train in), in one ValueError each.
:data:`SCHEMA` is the only place that knows those values and the defaults of the optional keys;
training reads the file through :func:`with_defaults`. The ``model`` section is checked by the
model's constructor (its arguments); ``data`` keys are read by several steps (manifests,
corpora), so only those training needs are checked there.
:func:`check_same_experiment` refuses to train into a folder that holds another experiment; a
folder written by an older version, without the keys added since, is the same experiment with
their defaults.
"""
from ..losses.thresholded_snr import PAIRWISE_LOSSES, SNR_MAX
from ..utils.checks import check_known_arguments
from ..version import __version__


class Rule:
    """The allowed values of a key: ``test(value)`` is True for them; ``kind`` names them, ``says`` tells
    the user what to give instead."""

    def __init__(self, test, kind, verb="give"):
        self.test, self.kind, self.says = test, kind, f"{verb} {kind}"

    @classmethod
    def one_of(cls, *choices, convert=lambda value: value):
        """A rule allowing ``convert(value)`` among ``choices`` (strings)."""
        return cls(lambda value: convert(value) in choices, f"one of {', '.join(choices)}", verb="choose")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


NUMBER = Rule(_number, "a number")
POSITIVE = Rule(lambda v: _number(v) and v > 0, "a number > 0")
NON_NEGATIVE = Rule(lambda v: _number(v) and v >= 0, "a number >= 0 (0: off)")
POSITIVE_INT = Rule(lambda v: _integer(v) and v >= 1, "an integer >= 1")
COUNT = Rule(lambda v: _integer(v) and v >= 0, "an integer >= 0")
BOOLEAN = Rule(lambda v: isinstance(v, bool), "true or false")
SHARE = Rule(lambda v: _number(v) and 0 <= v < 1, "a share >= 0 and < 1 (e.g. 0.1)")
DB_RANGE = Rule(lambda v: isinstance(v, (list, tuple)) and len(v) == 2 and all(map(_number, v)) and v[0] <= v[1],
                "[low, high] in dB with low <= high")
MODEL_PATH = Rule(lambda v: v is None or (isinstance(v, str) and bool(v.strip())),
                  "the path of a trained model (an experiment's best_model.pth or a hub folder), or null")
WORKERS = Rule(lambda v: v == "auto" or (_integer(v) and v >= 0), "auto or an integer >= 0 (0: load in "
               "the training process)")
#: ``training.precision``: Lightning's names (weights stay float32, losses are computed in float32);
#: YAML reads ``32`` as a number.
PRECISION = Rule.one_of("32", "16-mixed", "bf16-mixed", convert=str)
#: ``training.loss``: the pairwise losses of PIT (:func:`~asteroid_deepmask.losses.pairwise_loss`) and the
#: MixIT losses of the same names; ``thresholded_snr`` is the MixIT paper's, capped at ``training.snr_max`` dB.
LOSS = Rule.one_of(*PAIRWISE_LOSSES)
#: Losses that score an all-zero reference as a constant (no gradient): refused with silent references
#: (``data.mixit_less_crowded_share > 0``); ``thresholded_snr`` scores the estimate's energy there.
SILENCE_BLIND_LOSSES = ("neg_snr", "neg_sisdr")
GROUPING = Rule.one_of("deterministic", "dynamic")
OPTIMIZER = Rule.one_of("adam")
REQUIRED = object()

#: ``{section: {key: (default, rule)}}``: what training reads; ``REQUIRED`` keys have no default.
SCHEMA = {
    "data": {"sample_rate": (REQUIRED, POSITIVE), "segment": (REQUIRED, POSITIVE),
             # unsupervised MixIT's mixtures of mixtures (asteroid_deepmask.data.MixturesOfMixturesDataset)
             "mixit_gain_db": ([-5.0, 5.0], DB_RANGE), "mixit_less_crowded_share": (0.0, SHARE)},
    "training": {
        "batch_size": (REQUIRED, POSITIVE_INT), "max_epochs": (REQUIRED, POSITIVE_INT),
        "early_stop_patience": (REQUIRED, POSITIVE_INT), "seed": (0, COUNT), "loss": ("neg_snr", LOSS),
        "grouping": ("deterministic", GROUPING), "unsupervised_mixit": (False, BOOLEAN),
        "gradient_clip_norm": (5.0, POSITIVE), "max_nonfinite_batches": (10, COUNT), "precision": ("32", PRECISION),
        "accumulate_grad_batches": (1, POSITIVE_INT), "num_workers": ("auto", WORKERS),
        # with unsupervised_mixit: the share of each batch drawn from a labelled corpus (semi-supervised)
        "supervised_share": (0.0, SHARE),
        "snr_max": (SNR_MAX, POSITIVE),
        # with unsupervised_mixit: weights of losses on the P outputs added to MixIT's (0: off; see OUTPUT_PRIORS)
        "sparsity_weight": (0.0, NON_NEGATIVE), "covariance_weight": (0.0, NON_NEGATIVE),
        # teacher-student MixIT: a trained MixIT model whose grouped outputs the model learns (with PIT)
        "teacher": (None, MODEL_PATH),
    },
    "optim": {"optimizer": ("adam", OPTIMIZER), "lr": (REQUIRED, POSITIVE), "weight_decay": (0.0, NUMBER)},
    "scheduler": {"factor": (0.5, POSITIVE), "patience": (3, COUNT)},
}
#: ``training`` weights of the losses on a MixIT model's P outputs: of
#: :func:`~asteroid_deepmask.losses.rms_sparsity` and of :func:`~asteroid_deepmask.losses.envelope_covariance`.
OUTPUT_PRIORS = ("sparsity_weight", "covariance_weight")
#: Sections whose every key training reads (others may hold keys for other steps).
_CLOSED = ("training", "optim", "scheduler")
#: Keys that may change between the runs of one experiment (resuming to train longer, on other hardware).
RESUMABLE_CHANGES = ("training.max_epochs", "training.early_stop_patience", "training.num_workers")
#: The top-level key of a folder's ``hparams.yaml`` that records the package version that wrote it.
VERSION_KEY = "version"


def check_experiment(hparams, source="the experiment file", gpus=None):
    """Raise a ValueError naming the first missing, unknown, mistyped or disallowed key of ``hparams``.

    Args:
        hparams (dict): a loaded experiment file (:func:`~asteroid_deepmask.experiment.hparams.load_hparams`).
        source (str): how the messages name the file.
        gpus (int or None): GPUs it will train on (0: the CPU, which cannot train in ``16-mixed``);
            None leaves the hardware unchecked.

    Example:
        >>> hp = {"model": {"name": "DPRNNDeepMask"}, "data": {"sample_rate": 8000, "segment": 4.0},
        ...       "training": {"batch_size": 4, "max_epochs": 10, "early_stop_patience": 5},
        ...       "optim": {"lr": 0.001, "optimizer": "sgd"}, "scheduler": {}}
        >>> check_experiment(hp)
        Traceback (most recent call last):
        ...
        ValueError: optim.optimizer='sgd' in the experiment file; choose one of adam.
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
        for key, (default, rule) in keys.items():
            if key not in given:
                if default is REQUIRED:
                    raise ValueError(f"{source} has no {section}.{key}; give it ({rule.kind}).")
            elif not rule.test(given[key]):
                raise ValueError(f"{section}.{key}={given[key]!r} in {source}; {rule.says}.")
    _check_silent_references(hparams, source)
    _check_output_priors(hparams, source)
    _check_teacher(hparams, source)
    _check_envelope_segment(hparams, source)
    if gpus == 0 and str(hparams["training"].get("precision")) == "16-mixed":
        raise ValueError(f"training.precision=16-mixed in {source} needs a GPU; on the CPU use bf16-mixed (or 32).")


def _check_silent_references(hparams, source):
    """Refuse mixtures of mixtures with a silent part (``data.mixit_less_crowded_share > 0``) under a loss that
    scores a silent reference as a constant: the outputs assigned to it would carry anything at no cost, and
    validation (the same loss) would average in a constant for those items."""
    training = hparams["training"]
    share = hparams["data"].get("mixit_less_crowded_share", SCHEMA["data"]["mixit_less_crowded_share"][0])
    loss = training.get("loss", SCHEMA["training"]["loss"][0])
    if training.get("unsupervised_mixit", False) and share > 0 and loss in SILENCE_BLIND_LOSSES:
        raise ValueError(f"data.mixit_less_crowded_share={share!r} in {source} makes mixtures of mixtures with a "
                         f"silent reference, which training.loss={loss} scores as a constant with no gradient (in "
                         "training and validation); use training.loss=thresholded_snr (the MixIT paper's), or "
                         "data.mixit_less_crowded_share=0.")


def _check_output_priors(hparams, source):
    """Refuse a weight of a loss on the P outputs (:data:`OUTPUT_PRIORS`) without MixIT training, whose
    outputs are the sources it acts on: a supervised run would silently ignore it."""
    training = hparams["training"]
    if training.get("unsupervised_mixit", False):
        return
    for key in OUTPUT_PRIORS:
        if training.get(key, 0):
            raise ValueError(f"training.{key}={training[key]!r} in {source} weighs a loss on the outputs of MixIT "
                             f"training: set training.unsupervised_mixit=true, or training.{key}=0.")


def _check_envelope_segment(hparams, source):
    """The envelope covariance and the teacher's grouping compare frame-energy envelopes of
    :data:`~asteroid_deepmask.losses.covariance.ENVELOPE_FRAME_S` frames: a training segment must hold two of
    them, which the first training step would otherwise find out."""
    from ..losses.covariance import ENVELOPE_FRAME_S

    training, segment = hparams["training"], hparams["data"]["segment"]
    users = [f"training.{key}={training[key]!r}" for key in ("covariance_weight", "teacher") if training.get(key)]
    if users and segment < 2 * ENVELOPE_FRAME_S:
        raise ValueError(f"{' and '.join(users)} in {source} compare{'s' if len(users) == 1 else ''} energy envelopes "
                         f"of {1000 * ENVELOPE_FRAME_S:g} ms frames, and data.segment={segment!r} holds fewer than two: "
                         f"set data.segment to at least {2 * ENVELOPE_FRAME_S:g} s.")


def _check_teacher(hparams, source):
    """A teacher labels the mixtures of a MixIT run's data (``unsupervised_mixit``), and replaces its losses:
    refuse it with what it would leave unused (a labelled share, the losses on MixIT's outputs)."""
    training = hparams["training"]
    teacher = training.get("teacher")
    if teacher is None:
        return
    if not training.get("unsupervised_mixit", False):
        raise ValueError(f"training.teacher={teacher!r} in {source} labels the mixtures of unlabeled data: set "
                         "training.unsupervised_mixit=true (its data), or training.teacher=null.")
    used = [key for key in ("supervised_share", *OUTPUT_PRIORS) if training.get(key, 0)]
    if used:
        unused, zeros = ", ".join(f"training.{k}" for k in used), " and ".join(f"training.{k}=0" for k in used)
        raise ValueError(f"training.teacher={teacher!r} in {source} trains on the teacher's outputs alone, without "
                         f"{unused}: set {zeros}, or training.teacher=null.")


def with_defaults(hparams):
    """A copy of ``hparams`` with every optional key of :data:`SCHEMA` it leaves out set to its default
    (``training.precision`` as a string), and without :data:`VERSION_KEY`.

    Example:
        >>> hp = with_defaults({"training": {"batch_size": 4}, "optim": {"lr": 0.01}, "version": "0.1.0"})
        >>> hp["training"]["loss"], hp["training"]["precision"], hp["scheduler"], "version" in hp
        ('neg_snr', '32', {'factor': 0.5, 'patience': 3}, False)
    """
    filled = {name: dict(value) if isinstance(value, dict) else value for name, value in hparams.items()
              if name != VERSION_KEY}
    for section, keys in SCHEMA.items():
        values = filled.setdefault(section, {})
        for key, (default, _) in keys.items():
            if default is not REQUIRED:
                values.setdefault(key, list(default) if isinstance(default, list) else default)
    if "precision" in filled["training"]:
        filled["training"]["precision"] = str(filled["training"]["precision"])
    return filled


def recorded(hparams):
    """What a folder's ``hparams.yaml`` holds: ``hparams`` :func:`with_defaults`, and the package version."""
    return {VERSION_KEY: __version__, **with_defaults(hparams)}


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
    """Dotted keys whose values differ between experiment files ``a`` and ``b``, ``ignore`` and the
    version that wrote them aside.

    A key that one file does not set differs unless ``set_in_both``: then it is taken for a default
    that a later version of the package added, with the earlier behaviour (right for reading old
    results, whose defaults may have been others).

    Example:
        >>> a, b = {"training": {"seed": 0, "loss": "neg_snr"}}, {"training": {"seed": 1, "precision": 32}}
        >>> differing_keys(a, b), differing_keys(a, b, set_in_both=True)
        (['training.loss', 'training.precision', 'training.seed'], ['training.seed'])
    """
    a, b = flat_hparams(a), flat_hparams(b)
    keys = a.keys() & b.keys() if set_in_both else a.keys() | b.keys()
    return sorted(k for k in keys if a.get(k) != b.get(k) and k not in ignore and k != VERSION_KEY)


def check_same_experiment(previous, hparams, where):
    """Raise a ValueError unless ``hparams`` is the experiment ``previous`` (read from ``where``), up to
    :data:`RESUMABLE_CHANGES`: training into a folder resumes its run, which another experiment cannot do.
    A key that either leaves out has its default (a folder written before the key existed)."""
    previous, hparams = with_defaults(previous), with_defaults(hparams)
    changed = differing_keys(previous, hparams, RESUMABLE_CHANGES)
    old, new = flat_hparams(previous), flat_hparams(hparams)
    if changed:
        shown = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:4])
        more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        raise ValueError(f"{where} holds another experiment ({shown}{more}); train into another folder (--exp), "
                         "give the same settings to resume it, or start it over (--force).")
