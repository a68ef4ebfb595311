"""What every evaluation writes next to a model, with or without references: ``metrics.csv`` (a row
per utterance), ``results.json`` (the summary ``publish`` and ``compare`` read) and ``results.md``,
replaced together; and the records of what was scored (the separator, the model's complexity).

``results.json`` also holds the fields of a result record (:func:`record_fields`: name, date, command,
versions, host; :mod:`~asteroid_deepmask.utils.result_records`), and :func:`write_run_record` turns it,
with a recipe run's wall time, into a record of its own (``egs/mini2mix/run.sh`` ends with one)."""
import csv
import json
import os

import numpy as np

from ..experiment import folder
from ..utils.atomic import atomic_paths
from ..utils.result_records import make_record, write_record
from .confidence import mean_ci

#: The files an evaluation writes: per-utterance metrics, the summary, its markdown table.
RESULT_FILES = folder.STEP_OUTPUTS["evaluate"]


def summarise(rows, keys):
    """Mean and 95 % confidence half-width (Student t, as :func:`~.confidence.mean_ci`) of ``keys`` over
    ``rows``; NaN values (a score an utterance does not have) are left out of the mean and of ``n``.

    Example:
        >>> summarise([{"a": 1.0}, {"a": 3.0}, {"a": float("nan")}], ["a"])["a"]["n"]
        2
    """
    summary = {}
    for key in keys:
        values = [float(r[key]) for r in rows if not np.isnan(float(r[key]))]
        mean, half = mean_ci(values) if values else (float("nan"), None)
        summary[key] = {"mean": mean, "ci95": float("nan") if half is None else half, "n": len(values)}
    return summary


def scored_records(model, separator):
    """``{"complexity", "separator"}`` of results: the parameters and MACs of the architecture the
    separator's metadata names (an exported file has no torch module to count), and what was scored
    (``model``: the path, when given one; ``backend``; ``precision``)."""
    from ..complexity import count_complexity
    from ..models.registry import get_model_class

    meta = separator.metadata
    counts = count_complexity(get_model_class(meta["model_name"])(**meta["model_args"]))
    return {
        "complexity": {"params_m": round(counts["params_total_m"], 4), "macs_g_4s": round(counts["macs_g"], 4)},
        "separator": {"model": os.fspath(model) if isinstance(model, (str, os.PathLike)) else None,
                      "backend": separator.backend, "precision": separator.precision},
    }


def record_fields(name="evaluate"):
    """The fields of a result record that ``results.json`` holds besides its own: ``name``, ``date``,
    ``command``, ``versions`` and ``host`` (its ``rows`` stay what :func:`~.evaluation.evaluate` says they are).

    Example:
        >>> sorted(record_fields())
        ['command', 'date', 'host', 'name', 'versions']
    """
    fields = make_record(name, [])
    del fields["rows"]
    return fields


def write_run_record(exp_dir, name, wall_s, command, out=None, **extra):
    """Write the record of a recipe run (``out``, by default ``exp_dir/record.json``) from the evaluation's
    ``results.json`` of ``exp_dir`` and the run's wall time; returns ``(path, record)``.

    Its one row: ``dataset``, ``si_sdri_db`` and ``si_sdri_ci95_db``, ``sdri_db``, ``utterances``, ``wall_s``
    and the model's ``params_m`` (scores the evaluation did not compute are left out).
    """
    with open(os.path.join(exp_dir, folder.RESULTS)) as f:
        results = json.load(f)
    summary = results.get("summary", {})
    row = {"dataset": results["dataset"]}
    for key in ("si_sdri", "sdri"):
        if key in summary:
            row[f"{key}_db"] = summary[key]["mean"]
            row[f"{key}_ci95_db"] = summary[key]["ci95"]
    if "si_sdri" in summary:
        row["utterances"] = summary["si_sdri"]["n"]
    row["wall_s"] = float(wall_s)
    row["params_m"] = results.get("complexity", {}).get("params_m")
    path = out or os.path.join(exp_dir, "record.json")
    record = make_record(name, [row], command=command, experiment=os.path.normpath(exp_dir),
                         evaluated=results.get("date"), **extra)
    write_record(path, record)
    return path, record


def write_result_files(out_dir, rows, keys, results, markdown):
    """Write ``rows`` (columns ``id`` and ``keys``), ``results`` and the ``markdown`` text into
    :data:`RESULT_FILES` of ``out_dir``, replaced together: a full disk leaves the previous three as they were."""
    os.makedirs(out_dir, exist_ok=True)
    with atomic_paths(*(os.path.join(out_dir, name) for name in RESULT_FILES)) as (csv_path, json_path, md_path):
        with open(csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["id", *keys])
            writer.writeheader()
            writer.writerows(rows)
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
        with open(md_path, "w") as f:
            f.write(markdown)
