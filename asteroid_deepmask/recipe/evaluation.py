"""Evaluation of a separation model on a test set: per-utterance metrics, a summary with 95 %
confidence intervals, SI-SDRi by overlap ratio of the speakers, and the files a recipe keeps
next to the model (``metrics.csv``, ``results.json``, ``results.md``).

Metrics come from Asteroid's ``get_metrics`` (pb_bss_eval / mir_eval underneath), with the
estimates put in the order of the references by the best permutation. Improvements (``si_sdri``,
``sdri``, ...) are the metric of the estimates minus the metric of the mixture itself.
The model runs through a separator (:mod:`asteroid_deepmask.deployment.separators`), so an
exported ONNX or TorchScript file, or a torch model in bf16, is scored like the model it came from.
:func:`evaluate_experiment` is the recipes' stage 3: an experiment's best model on a test manifest.
"""
import csv
import json
import os

import numpy as np
import torch

from ..utils.atomic import atomic_paths
from ..utils.library_noise import library_warnings_ignored
from .confidence import mean_ci
from ..data import ManifestDataset, manifest_path
from ..deployment.separators import load_separator
from ..experiment import folder
from ..models.registry import get_model_class

#: Metrics that ``evaluate`` can compute; the first two are the papers'.
METRICS = ("si_sdr", "sdr", "sir", "sar", "stoi")
#: The files :func:`evaluate` writes: per-utterance metrics, the summary, its markdown table.
RESULT_FILES = folder.STEP_OUTPUTS["evaluate"]
#: Overlap-ratio bins of the SIMO-SISO paper's analysis (fraction of speech frames with two talkers).
OVERLAP_BINS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0))


def overlap_ratio(sources, sample_rate, frame_s=0.02, threshold_db=-30.0):
    """Fraction of active frames (any source) in which at least two sources are active.

    A source is active in a frame when its energy there is within ``threshold_db`` of its
    loudest frame.

    Args:
        sources (np.ndarray): ``[n_src, time]``.

    Example:
        >>> s = np.zeros((2, 800)); s[0, :600] = 1; s[1, 400:] = 1
        >>> round(overlap_ratio(s, 8000, frame_s=0.025), 2)
        0.25
    """
    frame = max(1, int(frame_s * sample_rate))
    n_frames = sources.shape[1] // frame
    energy = (sources[:, : n_frames * frame].reshape(sources.shape[0], n_frames, frame) ** 2).sum(-1)
    peak = energy.max(axis=1, keepdims=True)
    active = (energy > 0) & (energy >= peak * 10 ** (threshold_db / 10))
    any_active = active.any(0)
    if not any_active.any():
        return 0.0
    return float((active.sum(0) >= 2)[any_active].mean())


def utterance_metrics(mix, sources, estimates, sample_rate, metrics=("si_sdr", "sdr")):
    """Metrics of one utterance, their improvements over the mixture, and its overlap ratio.

    Args:
        mix (np.ndarray): ``[time]``; sources, estimates (np.ndarray): ``[n_src, time]``.
    """
    from asteroid.metrics import get_metrics

    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose among {list(METRICS)}.")
    with library_warnings_ignored():
        values = get_metrics(mix, sources, estimates, sample_rate=sample_rate, metrics_list=list(metrics),
                             compute_permutation=True)
    row = {}
    for name in metrics:
        row[name] = float(values[name])
        row[f"{name}i"] = float(values[name] - values[f"input_{name}"])
    row["overlap_ratio"] = overlap_ratio(sources, sample_rate)
    return row


def summarise(rows, keys):
    """Mean and 95 % confidence half-width (Student t, as :func:`~.confidence.mean_ci`) of ``keys`` over ``rows``."""
    summary = {}
    for key in keys:
        mean, half = mean_ci([float(r[key]) for r in rows])
        summary[key] = {"mean": mean, "ci95": float("nan") if half is None else half, "n": len(rows)}
    return summary


def by_overlap(rows, key="si_sdri"):
    """Mean of ``key`` per overlap-ratio bin, ``[(low, high, n, mean), ...]`` (empty bins skipped)."""
    table = []
    for low, high in OVERLAP_BINS:
        inside = [r[key] for r in rows if low <= r["overlap_ratio"] < high or (high == 1.0 and r["overlap_ratio"] == 1.0)]
        if inside:
            table.append((low, high, len(inside), float(np.mean(inside))))
    return table


def evaluate(model, examples, out_dir, dataset, metrics=("si_sdr", "sdr"), device="cpu", precision="32"):
    """Evaluate ``model`` on ``examples`` and write ``metrics.csv``, ``results.json`` and
    ``results.md`` into ``out_dir``; returns the summary dict.

    Args:
        model: anything :func:`~asteroid_deepmask.deployment.separators.load_separator` takes: a
            package model, a separator, or the path of a ``.pth`` file, a hub folder or an exported
            ``.onnx`` / TorchScript file.
        examples (iterable): ``(utterance id, mix [time], sources [n_src, time])`` tensors or arrays.
        dataset (str): name written into ``results.json`` (and from there into model cards).
        device (str), precision (str): where and how the model runs (``"32"`` or ``"bf16"``).

    ``results.json`` is ``{"dataset", "metrics": {improvement: mean}, "summary", "by_overlap",
    "complexity", "separator"}``: the format ``asteroid-deepmask publish`` reads; ``separator``
    records what was scored (``model``: the path, when given one; ``backend``; ``precision``).
    """
    from ..complexity import count_complexity

    separator = load_separator(model, device, precision)
    rate = int(separator.sample_rate)
    rows = []
    for utt_id, mix, sources in examples:
        mix_t = torch.as_tensor(mix, dtype=torch.float32)
        est = separator(mix_t.unsqueeze(0).to(separator.device))[0].cpu().numpy()
        row = utterance_metrics(np.asarray(mix, dtype=float), np.asarray(sources, dtype=float), est.astype(float), rate, metrics)
        rows.append({"id": utt_id, **row})
    if not rows:
        raise ValueError("No examples to evaluate: the test set is empty.")
    keys = [k for m in metrics for k in (m, f"{m}i")]
    summary = summarise(rows, keys)
    overlap = by_overlap(rows)
    # Counted on the architecture the separator's metadata names: an exported file has no torch module to count.
    meta = separator.metadata
    counts = count_complexity(get_model_class(meta["model_name"])(**meta["model_args"]))
    results = {
        "dataset": dataset,
        "metrics": {f"{m}i": round(summary[f"{m}i"]["mean"], 3) for m in metrics},
        "summary": summary,
        "by_overlap": [{"low": lo, "high": hi, "n": n, "si_sdri": round(v, 3)} for lo, hi, n, v in overlap],
        "complexity": {"params_m": round(counts["params_total_m"], 4), "macs_g_4s": round(counts["macs_g"], 4)},
        "separator": {"model": os.fspath(model) if isinstance(model, (str, os.PathLike)) else None,
                      "backend": separator.backend, "precision": separator.precision},
    }
    os.makedirs(out_dir, exist_ok=True)
    # replaced together: a full disk leaves the previous three files as they were
    with atomic_paths(*(os.path.join(out_dir, name) for name in RESULT_FILES)) as (csv_path, json_path, md_path):
        with open(csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["id", *keys, "overlap_ratio"])
            writer.writeheader()
            writer.writerows(rows)
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
        with open(md_path, "w") as f:
            f.write(results_markdown(results))
    return results


def results_markdown(results):
    """The results table written next to a model."""
    lines = [f"# Results on {results['dataset']}", "", "| metric | mean | 95% CI | utterances |", "|---|---|---|---|"]
    for key, s in results["summary"].items():
        lines.append(f"| {key} | {s['mean']:.2f} | +-{s['ci95']:.2f} | {s['n']} |")
    c = results["complexity"]
    lines += ["", f"Parameters: {c['params_m']:.3f} M; MACs on 4 s: {c['macs_g_4s']:.2f} G.", ""]
    scored = results.get("separator")  # absent from results written before 0.2.0
    if scored:
        lines += [f"Scored: {scored['model'] or 'the model'} ({scored['backend']}, precision {scored['precision']}).", ""]
    if results["by_overlap"]:
        lines += ["## SI-SDRi by overlap ratio", "", "| overlap | utterances | SI-SDRi |", "|---|---|---|"]
        lines += [f"| {b['low']:.0%}-{b['high']:.0%} | {b['n']} | {b['si_sdri']:.2f} |" for b in results["by_overlap"]]
    return "\n".join(lines) + "\n"


def evaluate_experiment(manifests, exp_dir, dataset, metrics=("si_sdr", "sdr"), model=None, device="cpu",
                        precision="32", out_dir=None):
    """Stage 3: evaluate an experiment's model on the test manifest; returns the results table (markdown).

    Args:
        manifests (str): folder holding ``tt.json``.
        exp_dir (str): experiment folder.
        dataset (str): name written into ``results.json``.
        metrics (sequence of str): among :data:`METRICS`.
        model (str, optional): the model to score: an exported ``.onnx`` / TorchScript file, a hub
            folder or a ``.pth`` file. Defaults to ``exp_dir/best_model.pth``.
        device (str), precision (str): where and how the model runs (``"32"`` or ``"bf16"``).
        out_dir (str, optional): where the files of :func:`evaluate` are written; defaults to ``exp_dir``.
    """
    model = model or os.path.join(exp_dir, folder.MODEL)
    test = ManifestDataset(manifest_path(manifests, "tt"))
    examples = ((e["id"], *test[i]) for i, e in enumerate(test.entries))
    results = evaluate(model, examples, out_dir or exp_dir, dataset=dataset, metrics=tuple(metrics), device=device,
                       precision=precision)
    return results_markdown(results)
