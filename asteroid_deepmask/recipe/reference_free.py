"""Evaluation without reference sources: what can be measured on recordings nobody has separated.

Two scores, both computed WITHOUT references:

* ``dnsmos``: DNSMOS P.835 (``ovrl``, ``sig``, ``bak``) and P.808 (``p808``) mean opinion scores of
  every output, predicted by Microsoft's DNSMOS networks (:mod:`.dnsmos_scorer`: the ONNX files the
  ``speechmos`` wheel ships, nothing is downloaded), on the CPU, at their 16 kHz (outputs are
  resampled; an output whose peak exceeds 1 is scaled down to it, the range DNSMOS reads).
* ``remix_si_sdr``: the MixIT remix SI-SDR, the SI-SDR of the outputs summed back against the input
  mixture: how much of the input the separation keeps (a mask model that loses nothing scores high;
  it says nothing about how well the sources are told apart).

For an overseparated model (P outputs, P > C) the outputs scored are the active ones of its P outputs
(:func:`~asteroid_deepmask.models.source_counting.active_sources`, loudest first), what ``separate
--active-only`` writes: its C grouped outputs are arbitrary sums for a model trained with MixIT.
Otherwise the C outputs are scored.
"""
import os

import numpy as np
import torch

from ..utils.audio_files import read_mono
from ..deployment.separators import all_outputs_separator, load_separator, n_outputs
from ..models.source_counting import ACTIVE_THRESHOLD_DB, active_sources
from ..utils.progress import with_progress
from .dnsmos_scorer import DNSMOS_RATE, DNSMOS_SCORES, dnsmos_scorer
from .result_files import record_fields, scored_records, summarise, write_result_files

#: The scores :func:`evaluate_reference_free` can compute.
REFERENCE_FREE_METRICS = ("dnsmos", "remix_si_sdr")
#: What the results say about the references.
WITHOUT_REFERENCES = "computed WITHOUT reference sources"


def dnsmos(wav, sample_rate):
    """DNSMOS scores of one waveform: ``{"ovrl", "sig", "bak", "p808"}`` (1 to 5, higher is better).

    Args:
        wav (np.ndarray or torch.Tensor): ``[time]``.
        sample_rate (int): its rate; resampled to :data:`DNSMOS_RATE`.

    A clip is scored as DNSMOS scores it (:class:`~.dnsmos_scorer.DnsmosScorer`): one window of 9.01 s
    per second, a shorter clip repeated; each distinct window costs one pass of each network.
    """
    import torchaudio.functional as AF

    wav = torch.as_tensor(np.asarray(wav), dtype=torch.float32).reshape(-1)
    if sample_rate != DNSMOS_RATE:
        wav = AF.resample(wav, int(sample_rate), DNSMOS_RATE)
    peak = float(wav.abs().max()) if wav.numel() else 0.0
    wav = wav / peak if peak > 1 else wav  # DNSMOS reads samples within [-1, 1]
    return dnsmos_scorer()(wav.numpy())


def remix_si_sdr(outputs, mixture, eps=1e-8):
    """SI-SDR in dB of the outputs ``[n_out, time]`` summed back against the ``mixture`` ``[time]``.

    Example:
        >>> mix = torch.randn(800)
        >>> round(remix_si_sdr(torch.stack([0.5 * mix, 0.5 * mix]), mix)) > 100  # nothing lost
        True
    """
    remix, mixture = torch.as_tensor(outputs).double().sum(0), torch.as_tensor(mixture).double()
    remix, mixture = remix - remix.mean(), mixture - mixture.mean()
    target = (remix @ mixture) / (mixture @ mixture + eps) * mixture
    return float(10 * torch.log10(target.pow(2).sum() / ((remix - target).pow(2).sum() + eps) + eps))


def evaluate_reference_free(model, wav_paths, out_dir, metrics=REFERENCE_FREE_METRICS, device="cpu",
                            dataset="recordings", threshold_db=ACTIVE_THRESHOLD_DB):
    """Score the separation of recordings that have no reference sources; write ``metrics.csv``,
    ``results.json`` and ``results.md`` into ``out_dir``; returns the results dict.

    Args:
        model: anything :func:`~asteroid_deepmask.deployment.separators.load_separator` takes (a package
            model, a ``.pth`` file, a hub folder, an export, a separator).
        wav_paths (sequence of str): the recordings (any rate, read whole; several channels are averaged).
        out_dir (str): where the three files go (the same names as the evaluation with references, so
            the recipe's skip / ``--force`` and ``package`` read them alike).
        metrics (sequence of str): among :data:`REFERENCE_FREE_METRICS`.
        device (str): where the model runs.
        dataset (str): the name written into the results.
        threshold_db (float): the active-output threshold of an overseparated model (dB re the mixture).

    ``results.json``: ``{"dataset", "references": false, "note", "metrics": {name: mean}, "summary",
    "complexity", "separator", "outputs_scored"}``; ``metrics`` holds ``dnsmos_ovrl`` (``_sig``, ``_bak``,
    ``_p808``: mean over the scored outputs of all recordings), ``remix_si_sdr`` and ``active_outputs``
    (mean count per recording, for an overseparated model). ``metrics.csv`` has one row per recording.
    """
    unknown = sorted(set(metrics) - set(REFERENCE_FREE_METRICS))
    if unknown or not metrics:
        raise ValueError(f"Unknown reference-free metrics {unknown or list(metrics)}; choose among "
                         f"{list(REFERENCE_FREE_METRICS)}.")
    if not wav_paths:
        raise ValueError("No recordings to evaluate: the list of wav files is empty.")
    separator = load_separator(model, device)
    all_outputs = all_outputs_separator(model, separator, device)
    rate = int(separator.sample_rate)
    rows = []
    for path in with_progress(wav_paths, len(wav_paths), "recordings"):
        mix = read_mono(path, rate, downmix=True).to(separator.device)
        row = {"id": os.path.splitext(os.path.basename(path))[0]}
        if all_outputs is not None:
            outputs = all_outputs(mix[None])[0].cpu()
            active = active_sources(outputs, mix.cpu(), threshold_db)
            row["active_outputs"] = len(active)
            scored = outputs[active]
        else:
            outputs = scored = separator(mix[None])[0].cpu()
        if "remix_si_sdr" in metrics:
            row["remix_si_sdr"] = remix_si_sdr(outputs, mix.cpu())
        if "dnsmos" in metrics:
            scores = [dnsmos(output, rate) for output in scored]
            for name in DNSMOS_SCORES:  # a recording without active outputs has no DNSMOS
                row[f"dnsmos_{name}"] = float(np.mean([s[name] for s in scores])) if scores else float("nan")
        rows.append(row)
    keys = [k for k in rows[0] if k != "id"]
    summary = summarise(rows, keys)
    results = {
        **record_fields("evaluate (reference-free)"),
        "dataset": dataset,
        "references": False,
        "note": f"All metrics {WITHOUT_REFERENCES}: DNSMOS predicts listener scores of each output; remix_si_sdr "
                "compares the outputs summed back with the input.",
        "metrics": {k: round(s["mean"], 3) for k, s in summary.items()},
        "summary": summary,
        **scored_records(model, separator),
        "outputs_scored": (f"the active outputs (above {threshold_db:g} dB re the mixture) of the model's "
                           f"{n_outputs(separator.metadata)} outputs" if all_outputs is not None
                           else f"the model's {separator.n_src} outputs"),
    }
    write_result_files(out_dir, rows, keys, results, reference_free_markdown(results))
    return results


def reference_free_markdown(results):
    """The results table of :func:`evaluate_reference_free`, saying that no reference was used."""
    lines = [f"# Results on {results['dataset']}, {WITHOUT_REFERENCES}", "",
             "| metric | mean | 95% CI | recordings |", "|---|---|---|---|"]
    lines += [f"| {k} | {s['mean']:.2f} | +-{s['ci95']:.2f} | {s['n']} |" for k, s in results["summary"].items()]
    c, scored = results["complexity"], results["separator"]
    return "\n".join(lines + [
        "", results["note"], f"Scored: {results['outputs_scored']}.", "",
        f"Parameters: {c['params_m']:.3f} M; MACs on 4 s: {c['macs_g_4s']:.2f} G.",
        f"Model: {scored['model'] or 'the model'} ({scored['backend']}, precision {scored['precision']}).", ""])
