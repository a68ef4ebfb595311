"""A Table-2-style comparison of evaluated experiments, next to the paper's numbers.

Each experiment folder holds ``results.json`` (written by :func:`~asteroid_deepmask.recipe.evaluation.evaluate`)
and ``hparams.yaml`` (written by training); the ``paper`` section of the latter, when there,
names the row and gives the paper's SI-SDRi and SDRi. ``train_time.json`` (written by training)
gives the training time when there. The names are :mod:`~asteroid_deepmask.experiment.folder`'s.

Folders named ``<name>_seed<N>`` in one parent folder are runs of one experiment with different
seeds (the recipes' ``--seeds``): they make one row, with the mean over seeds and a 95 %
confidence interval of that mean over seeds.

Overseparated experiments (P outputs) were also scored on selections of their P outputs
(:data:`~.evaluation.OUTPUT_SELECTIONS`); the C grouped outputs say little about such a model, so
a second table gives those scores, one column per improvement every row measured. Folders with a
counting record (:data:`~asteroid_deepmask.experiment.folder.COUNTING`, written by
``egs/mixit/count_mini.py --record``) add a third: how often ``count_sources`` counts 1, 2 and 3
voices right at the default threshold. :func:`comparison_records` gives all of it as the rows of a
result record (``compare --record FILE``).
"""
import json
import math
import os
import re

import yaml

from .confidence import mean_ci
from .evaluation import OUTPUT_SELECTIONS
from ..experiment import folder
from ..experiment.schema import differing_keys

_SEED_SUFFIX = re.compile(r"^(?P<name>.+)_seed(?P<seed>\d+)$")
#: Keys that may differ between the seeds of one row: the seed, and the teacher of teacher-student MixIT (each
#: seed's student learns from the teacher of its own seed).
SEED_KEYS = ("training.seed", "training.teacher")


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def experiment_result(exp_dir):
    """What the comparison needs from one experiment folder.

    Args:
        exp_dir (str): an evaluated experiment folder.

    Returns:
        dict: ``{"si_sdri", "sdri", "selections", "params_m", "macs_g", "train_seconds", "resumed",
        "hparams", "counting"}``; ``sdri`` and ``train_seconds`` are None when not measured, ``selections`` holds
        the improvements on selections of an overseparated model's outputs (``{"si_sdri_loudest": ...}``,
        empty for other models), ``hparams`` is ``{}`` without ``hparams.yaml``, ``counting`` is
        :func:`counting_rates` of the folder's counting record (``{}`` without one).
    """
    results_path = os.path.join(exp_dir, folder.RESULTS)
    if not os.path.isfile(results_path):
        raise FileNotFoundError(f"No {results_path}: evaluate {exp_dir!r} first (the recipe's stage 3).")
    results = _read_json(results_path)
    hparams = {}
    hparams_path = os.path.join(exp_dir, folder.HPARAMS)
    if os.path.isfile(hparams_path):
        with open(hparams_path) as f:
            hparams = yaml.safe_load(f) or {}
    time_path = os.path.join(exp_dir, folder.TRAIN_TIME)
    timing = _read_json(time_path) if os.path.isfile(time_path) else {}
    counting_path = os.path.join(exp_dir, folder.COUNTING)
    return {
        "si_sdri": results["metrics"].get("si_sdri"),
        "sdri": results["metrics"].get("sdri"),
        "selections": {k: v for k, v in results["metrics"].items() if _selection(k)},
        "params_m": results["complexity"]["params_m"],
        "macs_g": results["complexity"]["macs_g_4s"],
        "train_seconds": timing.get("train_seconds"),
        "resumed": bool(timing.get("resumed")),
        "hparams": hparams,
        "counting": counting_rates(_read_json(counting_path)) if os.path.isfile(counting_path) else {},
    }


def counting_rates(record):
    """``{voices: share counted right}`` at the record's default threshold, from a counting record
    (``egs/mixit/count_mini.py --record``); numbers of voices without mixtures are left out.

    Example:
        >>> counting_rates({"default_threshold_db": -20.0, "rows": [
        ...     {"voices": 1, "threshold_db": -20.0, "counted_right": 0.5},
        ...     {"voices": 1, "threshold_db": -10.0, "counted_right": 0.9}]})
        {1: 0.5}
    """
    default = record["default_threshold_db"]
    return {r["voices"]: r["counted_right"] for r in record["rows"]
            if r["threshold_db"] == default and r["counted_right"] is not None}


def _selection(key):
    """The output selection a metrics key scores (``"si_sdri_loudest"`` -> ``"loudest"``), or None."""
    return next((name for name in OUTPUT_SELECTIONS if key.endswith(f"_{name}")), None)


def group_seeds(exp_dirs):
    """Group the folders of ``exp_dirs`` that are seeds of one experiment, keeping the first-seen order.

    Args:
        exp_dirs (list of str): experiment folders; ``<parent>/<name>_seed<N>`` ones with the same
            parent and name form one group, any other folder is a group of its own.

    Returns:
        list of (str, list of str): ``(name, folders)`` per group.

    Example:
        >>> group_seeds(["x/a_seed0", "x/b", "x/a_seed1"])
        [('a', ['x/a_seed0', 'x/a_seed1']), ('b', ['x/b'])]
    """
    groups = {}
    for exp in exp_dirs:
        parent, base = os.path.split(os.path.normpath(exp))
        match = _SEED_SUFFIX.match(base)
        name = match["name"] if match else base
        folders = groups.setdefault((parent, name, bool(match)), [])
        if exp in folders:
            raise ValueError(f"Experiment folder {exp!r} is listed twice; list each run (each seed) once.")
        folders.append(exp)
    return [(name, folders) for (_, name, _), folders in groups.items()]


def comparison_row(exp_dirs):
    """One row of the comparison from the runs (seeds) of one experiment.

    Args:
        exp_dirs (str or list of str): the experiment's folder, or the folders of its seeds, which
            must share their hparams except :data:`SEED_KEYS` (keys set in one folder only are allowed).

    Returns:
        dict: ``{"model", "n_seeds", "si_sdri", "si_sdri_ci", "sdri", "sdri_ci", "si_sdri_seeds",
        "selections", "counting", "params_m", "macs_g", "train_seconds", "resumed", "paper_si_sdri",
        "paper_sdri"}``: means over seeds, CI half-widths (None for one seed or a metric not measured);
        ``selections`` maps each selection key every seed measured to its ``(mean, CI half-width)``,
        ``counting`` each number of voices every seed counted to its ``(mean share, CI half-width)``.
    """
    exp_dirs = [exp_dirs] if isinstance(exp_dirs, (str, os.PathLike)) else list(exp_dirs)
    runs = [experiment_result(exp) for exp in exp_dirs]
    for exp, run in zip(exp_dirs[1:], runs[1:]):
        differing = differing_keys(runs[0]["hparams"], run["hparams"], SEED_KEYS, set_in_both=True)
        if differing:
            raise ValueError(f"{exp!r} was trained with other hparams than {exp_dirs[0]!r} ({', '.join(differing)}), "
                             "not only another training.seed: give the seeds of one experiment the same file and "
                             "overrides.")
    paper = runs[0]["hparams"].get("paper") or {}
    row = {"model": paper.get("name") or group_seeds(exp_dirs[:1])[0][0], "n_seeds": len(runs),
           "si_sdri_seeds": [r["si_sdri"] for r in runs], "params_m": runs[0]["params_m"],
           "macs_g": runs[0]["macs_g"], "resumed": any(r["resumed"] for r in runs),
           "paper_si_sdri": paper.get("si_sdri"), "paper_sdri": paper.get("sdri")}
    for key in ("si_sdri", "sdri"):
        values = [r[key] for r in runs]
        row[key], row[f"{key}_ci"] = mean_ci(values) if None not in values else (None, None)
    common = [k for k in runs[0]["selections"] if all(k in r["selections"] for r in runs)]
    row["selections"] = {k: mean_ci([r["selections"][k] for r in runs]) for k in common}
    voices = [v for v in runs[0]["counting"] if all(v in r["counting"] for r in runs)]
    row["counting"] = {v: mean_ci([r["counting"][v] for r in runs]) for v in voices}
    times = [r["train_seconds"] for r in runs]
    row["train_seconds"] = None if None in times else math.fsum(times) / len(times)
    return row


def _number(value, fmt, half=None):
    if value is None:
        return "-"
    return format(value, fmt) + ("" if half is None else f" ± {format(half, fmt)}")


def comparison_markdown(exp_dirs):
    """The comparison table of ``exp_dirs`` as markdown: one row per experiment (its seeds grouped,
    see :func:`group_seeds`), in order, and a caption saying what the numbers are.

    Args:
        exp_dirs (list of str): evaluated experiment folders.

    Returns:
        str: the table, a blank line and the caption.

    Example:
        >>> import tempfile
        >>> exp = tempfile.mkdtemp()
        >>> with open(os.path.join(exp, "results.json"), "w") as f:
        ...     json.dump({"metrics": {"si_sdri": 16.04, "sdri": 16.31},
        ...                "complexity": {"params_m": 2.6, "macs_g_4s": 21.5}}, f)
        >>> print(comparison_markdown([exp]).splitlines()[2])  # doctest: +ELLIPSIS
        | ... | 1 | 16.04 | 16.31 | 16.04 | 2.600 | 21.50 | - | - |
    """
    return rows_markdown(comparison_rows(exp_dirs))


def comparison_rows(exp_dirs):
    """:func:`comparison_row` of each experiment of ``exp_dirs`` (its seeds grouped, :func:`group_seeds`), in
    order; rows of one name from different parent folders are named ``<parent>/<name>``."""
    groups = [folders for _, folders in group_seeds(exp_dirs)]
    rows = [comparison_row(folders) for folders in groups]
    names = [r["model"] for r in rows]
    for r, folders in zip(rows, groups):
        if names.count(r["model"]) > 1:
            r["model"] = f"{os.path.basename(os.path.dirname(os.path.normpath(folders[0])))}/{r['model']}"
    return rows


def rows_markdown(rows):
    """The markdown of :func:`comparison_markdown` from its :func:`comparison_rows`."""
    lines = ["| Model | Seeds | SI-SDRi (dB) | SDRi (dB) | SI-SDRi per seed (dB) | Params (M) | MACs (G) | "
             "Train time (s) | Paper SI-SDRi / SDRi (dB) |",
             "|---|---|---|---|---|---|---|---|---|"]
    resumed = False
    for r in rows:
        resumed |= r["resumed"]
        paper = "-" if r["paper_si_sdri"] is None else f"{r['paper_si_sdri']} / {_number(r['paper_sdri'], '')}"
        lines.append(f"| {r['model']} | {r['n_seeds']} | {_number(r['si_sdri'], '.2f', r['si_sdri_ci'])} | "
                     f"{_number(r['sdri'], '.2f', r['sdri_ci'])} | "
                     f"{', '.join(_number(v, '.2f') for v in r['si_sdri_seeds'])} | {r['params_m']:.3f} | "
                     f"{r['macs_g']:.2f} | {_number(r['train_seconds'], '.0f')}{'*' if r['resumed'] else ''} | "
                     f"{paper} |")
    caption = ("SI-SDRi and SDRi: mean over the seeds of each row, on the test set; ± the half-width of the 95 % "
               "confidence interval of that mean over seeds (Student t, n - 1 dof; none for one seed). MACs on "
               "4 s of audio. Train time: wall-clock seconds of the training step, mean over seeds.")
    if resumed:
        caption += " *: a training resumed from a checkpoint; its time covers the resumed part only."
    return "\n".join(lines) + "\n\n" + caption + "\n" + selections_markdown(rows) + counting_markdown(rows)


def selections_markdown(rows):
    """The second table of :func:`comparison_markdown`: the scores of selections of the P outputs, for
    the rows of :func:`comparison_row` that have them (an empty string when none has).

    Example:
        >>> row = {"model": "mixit", "n_seeds": 2, "selections": {"si_sdri_loudest": (3.0, 1.5)}}
        >>> print(selections_markdown([row]).splitlines()[3])
        | mixit | 2 | 3.00 ± 1.50 |
    """
    rows = [r for r in rows if r["selections"]]
    if not rows:
        return ""
    keys = [k for k in rows[0]["selections"] if all(k in r["selections"] for r in rows)]
    titles = [f"{k.removesuffix('_' + _selection(k))} ({_selection(k)})" for k in keys]
    lines = ["", f"| Model | Seeds | {' | '.join(titles)} |", "|---|---|" + "---|" * len(keys)]
    for r in rows:
        cells = [_number(mean, ".2f", half) for mean, half in (r["selections"][k] for k in keys)]
        lines.append(f"| {r['model']} | {r['n_seeds']} | {' | '.join(cells)} |")
    caption = ("The P outputs of overseparated models, on the test set: " + "; ".join(
        f"`{name}`: {how}" for name, how in OUTPUT_SELECTIONS.items()) + ". Improvements over the mixture, mean "
        "over seeds ± the half-width of the 95 % confidence interval.")
    return "\n".join([*lines, "", caption]) + "\n"


def counting_markdown(rows):
    """The third table of :func:`comparison_markdown`: how often each row's model counts 1, 2 and 3 voices
    right, for the rows of :func:`comparison_row` that have counting records (an empty string when none has).

    Example:
        >>> row = {"model": "mixit", "n_seeds": 3, "counting": {1: (0.5, 0.1), 2: (0.25, None)}}
        >>> print(counting_markdown([row]).splitlines()[3])
        | mixit | 3 | 50 ± 10 % | 25 % |
    """
    rows = [r for r in rows if r.get("counting")]
    if not rows:
        return ""
    voices = sorted({v for r in rows for v in r["counting"]})
    titles = [f"{v} voice" + ("s" if v > 1 else "") for v in voices]
    lines = ["", f"| Model | Seeds | {' | '.join(titles)} |",
             "|---|---|" + "---|" * len(voices)]
    for r in rows:
        cells = [("-" if v not in r["counting"] else
                  _number(100 * r["counting"][v][0], ".0f", None if r["counting"][v][1] is None
                          else 100 * r["counting"][v][1]) + " %") for v in voices]
        lines.append(f"| {r['model']} | {r['n_seeds']} | {' | '.join(cells)} |")
    caption = ("Counted right: the share of test mixtures of 1, 2 and 3 voices (egs/mixit/count_mini.py) whose "
               "`count_sources` at the default threshold is their number of voices; mean over seeds ± the "
               "half-width of the 95 % confidence interval.")
    return "\n".join([*lines, "", caption]) + "\n"


def comparison_records(exp_dirs):
    """The rows of :func:`comparison_markdown` as flat dicts, for a result record: per experiment (seeds
    grouped), ``model``, ``n_seeds``, ``si_sdri``, ``si_sdri_ci``, each selection key and its ``_ci``
    (``si_sdri_best_assignment``, ``si_sdri_active``, ``dnsmosi_active`` ...), and
    ``counted_right_<n>_voices`` and its ``_ci``.

    Example:
        >>> import tempfile
        >>> exp = tempfile.mkdtemp()
        >>> with open(os.path.join(exp, "results.json"), "w") as f:
        ...     json.dump({"metrics": {"si_sdri": 4.0, "si_sdri_active": 3.5},
        ...                "complexity": {"params_m": 2.6, "macs_g_4s": 21.5}}, f)
        >>> row = comparison_records([exp])[0]
        >>> row["si_sdri_active"], row["si_sdri_active_ci"], row["n_seeds"]
        (3.5, None, 1)
    """
    return rows_records(comparison_rows(exp_dirs))


def rows_records(rows):
    """The record rows of :func:`comparison_records` from its :func:`comparison_rows`."""
    records = []
    for row in rows:
        flat = {"model": row["model"], "n_seeds": row["n_seeds"], "si_sdri": row["si_sdri"],
                "si_sdri_ci": row["si_sdri_ci"], "si_sdri_seeds": row["si_sdri_seeds"]}
        for key, (mean, half) in row["selections"].items():
            flat[key], flat[f"{key}_ci"] = mean, half
        for voices, (mean, half) in row["counting"].items():
            flat[f"counted_right_{voices}_voices"], flat[f"counted_right_{voices}_voices_ci"] = mean, half
        records.append(flat)
    return records
