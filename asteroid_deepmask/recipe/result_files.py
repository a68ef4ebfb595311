"""What every evaluation writes next to a model, with or without references: ``metrics.csv`` (a row
per utterance), ``results.json`` (the summary ``publish`` and ``compare`` read) and ``results.md``,
replaced together; and the records of what was scored (the separator, the model's complexity)."""
import csv
import json
import os

import numpy as np

from ..experiment import folder
from ..utils.atomic import atomic_paths
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
