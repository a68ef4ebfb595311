"""Evaluation of a separation model on a test set: per-utterance metrics, a summary with 95 %
confidence intervals, SI-SDRi by overlap ratio of the speakers, and the files a recipe keeps
next to the model (``metrics.csv``, ``results.json``, ``results.md``).

Metrics come from Asteroid's ``get_metrics`` (pb_bss_eval / mir_eval underneath), with the
estimates put in the order of the references by the best permutation. Improvements (``si_sdri``,
``sdri``, ...) are the metric of the estimates minus the metric of the mixture itself.
``pesq`` (ITU-T P.862, 8 or 16 kHz) and ``stoi`` come through ``get_metrics`` too; ``dnsmos`` is the
DNSMOS overall score of the estimates (:func:`~.reference_free.dnsmos`), its improvement over the
mixture's. The model runs through a separator (:mod:`asteroid_deepmask.deployment.separators`), so an
exported ONNX or TorchScript file, or a torch model in bf16, is scored like the model it came from.

An overseparated model (P outputs, P > C, run in torch) is also scored on its P outputs, three ways
(:data:`OUTPUT_SELECTIONS`): summed into the references by the best assignment (the MixIT paper's
oracle figure), its C most energetic outputs matched by PIT, and the outputs ``separate --active-only``
keeps, matched one to one to the references (what a user without references has).
DNSMOS, a score without references that takes seconds per clip, is computed on the outputs a user
without references gets (the C outputs, the C loudest, the active ones), not on the best assignment,
and the mixture's once per utterance.
:func:`evaluate_experiment` is the recipes' stage 3: an experiment's best model on a test manifest, or
on a manifest without sources, :func:`~.reference_free.evaluate_reference_free`.
"""
import itertools
import os

import numpy as np
import torch

from ..utils.library_noise import library_warnings_ignored
from ..utils.progress import with_progress
from ..data import ManifestDataset, manifest_path
from ..deployment.separators import all_outputs_separator, load_separator
from ..experiment import folder
from ..losses import MixITWrapper
from ..models.source_counting import active_sources
from .reference_free import REFERENCE_FREE_METRICS, dnsmos, evaluate_reference_free, reference_free_markdown
from .result_files import RESULT_FILES, record_fields, scored_records, summarise, write_result_files

#: Metrics that ``evaluate`` can compute; the first two are the papers'.
METRICS = ("si_sdr", "sdr", "sir", "sar", "stoi", "pesq", "dnsmos")
#: The metrics ``get_metrics`` computes (the others need no reference).
_WITH_REFERENCES = ("si_sdr", "sdr", "sir", "sar", "stoi", "pesq")
#: Key suffixes of the scores of an overseparated model's P outputs, and what each row scores.
OUTPUT_SELECTIONS = {
    "best_assignment": "its P outputs summed into the references by the assignment that maximises SI-SDR "
                       "(MixIT's best assignment, as the MixIT paper reports; an oracle: it reads the references)",
    "loudest": "its C most energetic outputs, matched to the references by PIT (what a user without references "
               "gets)",
    "active": "the outputs that `separate --active-only` keeps (models.source_counting.active_outputs, at the "
              "default threshold), matched one to one to the references by the SI-SDR-best assignment for scoring "
              "only; a reference left without a kept output is scored on the mixture itself (0 dB improvement), "
              "kept outputs left without a reference are not scored",
}
#: The selections scored with DNSMOS too (the others read the references to pick the outputs).
DNSMOS_SELECTIONS = ("loudest", "active")
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


def scores(mix, sources, estimates, sample_rate, metrics=("si_sdr", "sdr"), mix_dnsmos=None, permute=True):
    """Metrics of one utterance's estimates and their improvements over the mixture (``<name>i``).

    Args:
        mix (np.ndarray): ``[time]``; sources, estimates (np.ndarray): ``[n_src, time]``, the estimates
            put in the order of the sources by the best permutation (``permute``), or already in it.
        metrics (sequence of str): among :data:`METRICS`.
        mix_dnsmos (float, optional): the mixture's DNSMOS overall score, when already computed (an
            utterance scored on several selections of outputs computes it once).
        permute (bool): find the best permutation of the estimates; False when a selection already put them
            in the sources' order (a reference left without an output must keep the mixture it was given).
    """
    from asteroid.metrics import get_metrics

    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose among {list(METRICS)}.")
    with_refs = [m for m in metrics if m in _WITH_REFERENCES]
    values = {}
    if with_refs:
        with library_warnings_ignored():
            values = get_metrics(mix, sources, estimates, sample_rate=sample_rate, metrics_list=with_refs,
                                 compute_permutation=permute)
    if "dnsmos" in metrics:
        values["dnsmos"] = np.mean([dnsmos(e, sample_rate)["ovrl"] for e in estimates])
        values["input_dnsmos"] = dnsmos(mix, sample_rate)["ovrl"] if mix_dnsmos is None else mix_dnsmos
    row = {}
    for name in metrics:
        row[name] = float(values[name])
        row[f"{name}i"] = float(values[name] - values[f"input_{name}"])
    return row


def utterance_metrics(mix, sources, estimates, sample_rate, metrics=("si_sdr", "sdr"), mix_dnsmos=None):
    """:func:`scores` of one utterance and its overlap ratio.

    Args:
        mix (np.ndarray): ``[time]``; sources, estimates (np.ndarray): ``[n_src, time]``.
    """
    return {**scores(mix, sources, estimates, sample_rate, metrics, mix_dnsmos),
            "overlap_ratio": overlap_ratio(sources, sample_rate)}


def selection_metrics(suffix, metrics):
    """The metrics scored on the outputs of key suffix ``suffix`` (``""``: the C outputs, else
    ``_<selection>`` of :data:`OUTPUT_SELECTIONS`): DNSMOS only where :data:`DNSMOS_SELECTIONS` says.

    Example:
        >>> selection_metrics("_best_assignment", ("si_sdr", "dnsmos")), selection_metrics("_loudest", ("dnsmos",))
        (('si_sdr',), ('dnsmos',))
    """
    keep_dnsmos = suffix == "" or suffix[1:] in DNSMOS_SELECTIONS
    return tuple(m for m in metrics if m != "dnsmos" or keep_dnsmos)


def _si_sdr_matrix(estimates, refs, eps=1e-8):
    """SI-SDR in dB (zero-mean) of every estimate ``[K, time]`` against every reference ``[C, time]``: ``[K, C]``."""
    estimates = estimates - estimates.mean(-1, keepdims=True)
    refs = refs - refs.mean(-1, keepdims=True)
    cross = estimates @ refs.T  # [K, C]
    signal = cross**2 / ((refs**2).sum(-1) + eps)  # ||a s||^2 with a = <e, s> / ||s||^2
    noise = (estimates**2).sum(-1, keepdims=True) - signal  # ||e - a s||^2 = ||e||^2 - ||a s||^2
    return 10 * np.log10((signal + eps) / (np.maximum(noise, 0) + eps))


def match_kept(kept, refs, mix):
    """The kept outputs ``[K, time]`` matched one to one to the references ``[C, time]`` by the assignment of
    largest total SI-SDR (for scoring only); a reference without a kept output gets ``mix`` ``[time]``.

    Returns:
        np.ndarray: ``[C, time]``, in the order of ``refs``.

    Example:
        >>> refs = np.stack([np.sin(np.arange(800.0)), np.cos(np.arange(800.0) / 3)])
        >>> mix = refs.sum(0)
        >>> np.allclose(match_kept(refs[[1, 0]], refs, mix), refs), np.allclose(match_kept(refs[1:], refs, mix)[0], mix)
        (True, True)
    """
    n_kept, n_refs = len(kept), len(refs)
    out = np.repeat(np.asarray(mix, dtype=float)[None], n_refs, axis=0)
    if n_kept == 0:
        return out
    sdr = _si_sdr_matrix(np.asarray(kept, dtype=float), np.asarray(refs, dtype=float))  # [K, C]
    pairs = min(n_kept, n_refs)
    # at most P!/(P-C)! assignments (336 for P = 8, C = 3): all of them are scored
    best = max(((outs, ins) for outs in itertools.permutations(range(n_kept), pairs)
                for ins in itertools.combinations(range(n_refs), pairs)),
               key=lambda oi: sdr[list(oi[0]), list(oi[1])].sum())
    for o, r in zip(*best):
        out[r] = kept[o]
    return out


def select_outputs(outputs, sources, mix):
    """The C estimates of :data:`OUTPUT_SELECTIONS` from P outputs ``[P, time]``, the sources ``[C, time]`` and the
    mixture ``[time]``.

    Returns:
        dict: ``{"best_assignment": [C, time], "loudest": [C, time], "active": [C, time]}`` (np.ndarray); the best
        assignment gives every source at least one output, the loudest are in decreasing energy (PIT orders them
        later), the active ones are in the order of the sources (:func:`match_kept`).

    Example:
        >>> sources = np.stack([np.sin(np.arange(800.0)), np.cos(np.arange(800.0) / 3)])
        >>> outputs = np.stack([0.5 * sources[1], 0.01 * sources[0], 0.5 * sources[1], sources[0]])
        >>> picked = select_outputs(outputs, sources, sources.sum(0))
        >>> np.allclose(picked["best_assignment"][1], sources[1]), np.allclose(picked["loudest"], outputs[[3, 0]])
        (True, True)
        >>> # outputs 0 and 2 are twins, as outputs sharing a residual are: neither is kept, source 1 gets the mixture
        >>> np.allclose(picked["active"], [sources[0], sources.sum(0)])
        True
    """
    outputs = torch.as_tensor(np.asarray(outputs), dtype=torch.float64)
    refs = torch.as_tensor(np.asarray(sources), dtype=torch.float64)
    remix = MixITWrapper("neg_sisdr", require_nonempty=True)(outputs[None], refs[None], return_est=True)[1][0]
    loudest = outputs[outputs.pow(2).sum(-1).argsort(descending=True, stable=True)[: refs.shape[0]]]
    mix = torch.as_tensor(np.asarray(mix), dtype=torch.float64)
    kept = outputs[active_sources(outputs, mix)].numpy()
    return {"best_assignment": remix.numpy(), "loudest": loudest.numpy(),
            "active": match_kept(kept, refs.numpy(), mix.numpy())}


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
        device (str), precision (str): where and how the model runs (``"32"``, ``"bf16"`` or ``"int8"``).

    ``results.json`` is ``{"dataset", "metrics": {improvement: mean}, "summary", "by_overlap",
    "complexity", "separator", "rows"}`` and a result record's ``name``, ``date``, ``command``, ``versions``
    and ``host`` (:func:`~.result_files.record_fields`): the format ``asteroid-deepmask publish`` reads; ``separator``
    records what was scored (``model``: the path, when given one; ``backend``; ``precision``); ``rows``
    says what each key scores: ``si_sdri`` ... the model's C outputs and, for an overseparated model
    run in torch, ``si_sdri_best_assignment`` ... and ``si_sdri_loudest`` ... its P outputs
    (:data:`OUTPUT_SELECTIONS`).
    """
    separator = load_separator(model, device, precision)
    all_outputs = all_outputs_separator(model, separator, device, precision)
    rate = int(separator.sample_rate)
    rows = []
    total = len(examples) if hasattr(examples, "__len__") else None
    for utt_id, mix, sources in with_progress(examples, total):
        mix_t = torch.as_tensor(mix, dtype=torch.float32).unsqueeze(0).to(separator.device)
        mix, sources = np.asarray(mix, dtype=float), np.asarray(sources, dtype=float)
        mix_dnsmos = dnsmos(mix, rate)["ovrl"] if "dnsmos" in metrics else None
        row = utterance_metrics(mix, sources, separator(mix_t)[0].cpu().double().numpy(), rate, metrics, mix_dnsmos)
        if all_outputs is not None:
            picked = select_outputs(all_outputs(mix_t)[0].cpu().double().numpy(), sources, mix)
            for suffix, estimates in picked.items():
                values = scores(mix, sources, estimates, rate, selection_metrics(f"_{suffix}", metrics), mix_dnsmos,
                                permute=suffix == "loudest")  # the other selections come in the sources' order
                row.update({f"{k}_{suffix}": v for k, v in values.items()})
        rows.append({"id": utt_id, **row})
    if not rows:
        raise ValueError("No examples to evaluate: the test set is empty.")
    what = {"": f"the model's {separator.n_src} outputs"}  # key suffix -> the outputs its rows score
    if all_outputs is not None:
        what.update({f"_{s}": f"the model's {all_outputs.n_src} outputs: {how}" for s, how in OUTPUT_SELECTIONS.items()})
    suffixes = list(what)
    scored = [(suffix, m) for suffix in suffixes for m in selection_metrics(suffix, metrics)]
    keys = [f"{k}{suffix}" for suffix, m in scored for k in (m, f"{m}i")]
    summary = summarise(rows, keys)
    overlap = by_overlap(rows)
    results = {
        **record_fields(),
        "dataset": dataset,
        "metrics": {f"{m}i{suffix}": round(summary[f"{m}i{suffix}"]["mean"], 3) for suffix, m in scored},
        "summary": summary,
        "by_overlap": [{"low": lo, "high": hi, "n": n, "si_sdri": round(v, 3)} for lo, hi, n, v in overlap],
        **scored_records(model, separator),
        "rows": {f"<metric>{suffix}": what[suffix] for suffix in suffixes},
    }
    write_result_files(out_dir, rows, [*keys, "overlap_ratio"], results, results_markdown(results))
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
    if len(results.get("rows", {})) > 1:  # an overseparated model: say which rows score which outputs
        lines += [f"- `{key}` rows: {what}." for key, what in results["rows"].items()] + [""]
    if results["by_overlap"]:
        lines += ["## SI-SDRi by overlap ratio", "", "| overlap | utterances | SI-SDRi |", "|---|---|---|"]
        lines += [f"| {b['low']:.0%}-{b['high']:.0%} | {b['n']} | {b['si_sdri']:.2f} |" for b in results["by_overlap"]]
    return "\n".join(lines) + "\n"


def evaluate_experiment(manifests, exp_dir, dataset, metrics=("si_sdr", "sdr"), model=None, device="cpu",
                        precision="32", out_dir=None, reference_free=False):
    """Stage 3: evaluate an experiment's model on the test manifest; returns the results table (markdown).

    A manifest whose rows have no sources (``"sources": []`` or no ``"sources"`` key: recordings nobody
    separated), or any manifest with ``reference_free``, is evaluated WITHOUT references
    (:func:`~.reference_free.evaluate_reference_free`, on the metrics of
    :data:`~.reference_free.REFERENCE_FREE_METRICS` among ``metrics``, both when none is), and the log
    says so.

    Args:
        manifests (str): folder holding ``tt.json``.
        exp_dir (str): experiment folder.
        dataset (str): name written into ``results.json``.
        metrics (sequence of str): among :data:`METRICS`.
        model (str, optional): the model to score: an exported ``.onnx`` / TorchScript file, a hub
            folder or a ``.pth`` file. Defaults to ``exp_dir/best_model.pth``.
        device (str), precision (str): where and how the model runs (``"32"``, ``"bf16"`` or ``"int8"``).
        out_dir (str, optional): where the files of :func:`evaluate` are written; defaults to ``exp_dir``.
    """
    model = model or os.path.join(exp_dir, folder.MODEL)
    test = ManifestDataset(manifest_path(manifests, "tt"))
    with_sources = [bool(e.get("sources")) for e in test.entries]
    if reference_free or not any(with_sources):
        chosen = tuple(m for m in metrics if m in REFERENCE_FREE_METRICS) or REFERENCE_FREE_METRICS
        why = "--reference-free" if reference_free else f"{manifest_path(manifests, 'tt')} lists no sources"
        print(f"{why}: evaluating WITHOUT references ({', '.join(chosen)}).", flush=True)
        results = evaluate_reference_free(model, [e["mix"] for e in test.entries], out_dir or exp_dir, chosen,
                                          device, dataset)
        return reference_free_markdown(results)
    if not all(with_sources):
        raise ValueError(f"{manifest_path(manifests, 'tt')} lists sources for some rows only "
                         f"({sum(with_sources)} of {len(with_sources)}); give a manifest with sources for all or none.")
    examples = ((e["id"], *test[i]) for i, e in enumerate(test.entries))
    print(f"scoring {len(test.entries)} utterances of {manifest_path(manifests, 'tt')} ({', '.join(metrics)})",
          flush=True)
    results = evaluate(model, examples, out_dir or exp_dir, dataset=dataset, metrics=tuple(metrics), device=device,
                       precision=precision)
    return results_markdown(results)
