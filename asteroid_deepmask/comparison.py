"""A Table-2-style comparison of evaluated experiments, next to the paper's numbers.

Each experiment folder holds ``results.json`` (written by :func:`~asteroid_deepmask.evaluation.evaluate`)
and ``hparams.yaml`` (written by training); the ``paper`` section of the latter, when there,
names the row and gives the paper's SI-SDRi and SDRi.
"""
import json
import os

import yaml


def comparison_row(exp_dir):
    """``{"model", "si_sdri", "sdri", "params_m", "macs_g", "paper_si_sdri", "paper_sdri"}`` of an experiment."""
    results_path = os.path.join(exp_dir, "results.json")
    if not os.path.isfile(results_path):
        raise FileNotFoundError(f"No {results_path}: evaluate {exp_dir!r} first (the recipe's stage 3).")
    with open(results_path) as f:
        results = json.load(f)
    paper = {}
    hparams_path = os.path.join(exp_dir, "hparams.yaml")
    if os.path.isfile(hparams_path):
        with open(hparams_path) as f:
            paper = (yaml.safe_load(f) or {}).get("paper") or {}
    return {
        "model": paper.get("name") or os.path.basename(os.path.normpath(exp_dir)),
        "si_sdri": results["metrics"].get("si_sdri"),
        "sdri": results["metrics"].get("sdri"),
        "params_m": results["complexity"]["params_m"],
        "macs_g": results["complexity"]["macs_g_4s"],
        "paper_si_sdri": paper.get("si_sdri"),
        "paper_sdri": paper.get("sdri"),
    }


def comparison_markdown(exp_dirs):
    """The comparison table of ``exp_dirs`` (one row each, in order), as markdown.

    Example:
        >>> import tempfile
        >>> exp = tempfile.mkdtemp()
        >>> with open(os.path.join(exp, "results.json"), "w") as f:
        ...     json.dump({"metrics": {"si_sdri": 16.04, "sdri": 16.31},
        ...                "complexity": {"params_m": 2.6, "macs_g_4s": 21.5}}, f)
        >>> print(comparison_markdown([exp]).splitlines()[2])  # doctest: +ELLIPSIS
        | ... | 16.04 | 16.31 | 2.60 | 21.5 | - |
    """
    lines = ["| Model | SI-SDRi (dB) | SDRi (dB) | Params (M) | MACs (G) | Paper SI-SDRi / SDRi (dB) |",
             "|---|---|---|---|---|---|"]
    number = lambda v, fmt: "-" if v is None else format(v, fmt)  # noqa: E731
    for exp in exp_dirs:
        r = comparison_row(exp)
        paper = "-" if r["paper_si_sdri"] is None else f"{r['paper_si_sdri']} / {r['paper_sdri']}"
        lines.append(f"| {r['model']} | {number(r['si_sdri'], '.2f')} | {number(r['sdri'], '.2f')} | "
                     f"{r['params_m']:.2f} | {r['macs_g']:.1f} | {paper} |")
    return "\n".join(lines) + "\n"
