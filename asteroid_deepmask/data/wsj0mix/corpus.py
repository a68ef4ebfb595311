"""wsj0-2mix and wsj0-3mix generated from the user's WSJ0 copy and MERL's mix lists.

A mix list (``mix_{n}_spk_{tr,cv,tt}.txt``, from MERL's ``create-speaker-mixtures.zip``) has one
line per mixture: ``<path> <level in dB>`` for each of the n speakers, with paths relative to the
WSJ0 root, the folder that holds ``wsj0/`` with the ``.wv1`` files converted to ``.wav``.

Each utterance is resampled from 16 kHz, brought to an active speech level of 0 dB (ITU-T P.56,
:mod:`asteroid_deepmask.data.active_level`), and scaled by its level; the utterances are cut to the shortest ("min") or
zero-padded to the longest ("max"), and mixture and sources are scaled together so that the
largest peak is 0.9 (never amplified). Files are 16-bit PCM named after the list line
(``<utt1>_<level1>_<utt2>_<level2>.wav``), in the usual layout:
``<out>/wav8k/min/{tr,cv,tt}/{mix,s1,s2,...}/``.

The active levels are computed here unless ``active_levels`` names a folder of text files with
one ``<utterance id> <active power>`` per line, the levels of the published corpus; with those the
scaling follows the published corpus exactly.
"""
import os
import sys

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ...utils.atomic import atomic_paths, sweep_partials
from ..active_level import active_power
from ..corpus_folder import SPLITS, claim_folder, mark_complete
from ..download import download_and_unpack

SOURCE_RATE = 16000
MIX_LISTS_URL = "http://www.merl.com/demos/deep-clustering/create-speaker-mixtures.zip"
MARKER = "wsj0mix.json"


def mix_list_name(n_src, split):
    return f"mix_{n_src}_spk_{split}.txt"


def read_mix_list(path, n_src):
    """``[(name, [relative paths], [levels in dB])]``, one per line of a mix list.

    Raises:
        ValueError: a line does not hold ``n_src`` (path, level) pairs.
    """
    entries = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            levels = _levels(fields[1::2]) if len(fields) == 2 * n_src else None
            if levels is None:
                raise ValueError(
                    f"{path}, line {number}: expected {n_src} pairs '<path> <level dB>', found {line.strip()!r}. "
                    f"Is this a mix_{n_src}_spk list?"
                )
            name = "_".join(f"{_utterance_id(p)}_{v}" for p, v in zip(fields[0::2], fields[1::2]))
            entries.append((name, fields[0::2], levels))
    return entries


def _levels(tokens):
    """The tokens as floats, or None when one is not a number."""
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def find_mix_lists(folder, n_src, splits=SPLITS):
    """``{split: path}`` of the ``mix_{n_src}_spk_<split>.txt`` lists under ``folder`` (searched recursively)."""
    wanted = {mix_list_name(n_src, s): s for s in splits}
    found = {}
    for here, _, files in os.walk(folder):
        for name in files:
            if name in wanted:
                found.setdefault(wanted[name], os.path.join(here, name))
    missing = [n for n, s in wanted.items() if s not in found]
    if missing:
        raise FileNotFoundError(
            f"No {', '.join(missing)} under {folder!r}. The lists come in MERL's {MIX_LISTS_URL} "
            "(unzip it and pass its folder)."
        )
    return found


def download_mix_lists(dest):
    """Download and unzip MERL's mix lists into ``dest/lists`` (once); returns that folder."""
    lists = os.path.join(dest, "lists")
    if not os.path.isdir(lists):
        download_and_unpack(MIX_LISTS_URL, lists,
                            "Download and unzip it yourself and pass the folder with --mix-lists.")
    return lists


def _utterance_id(path):
    return os.path.splitext(os.path.basename(path))[0]


def read_wsj0(wsj0_root, relative):
    """A WSJ0 utterance ``[time]`` at 16 kHz, from its path in a mix list."""
    path = os.path.join(wsj0_root, relative)
    if not os.path.isfile(path):
        if os.path.isfile(os.path.splitext(path)[0] + ".wv1"):
            raise FileNotFoundError(
                f"{path} is missing but its .wv1 is there: convert WSJ0 to wav first, keeping its folders "
                "(e.g. `sph2pipe -f wav X.wv1 X.wav`)."
            )
        raise FileNotFoundError(
            f"{path} not found: --wsj0 must be the folder that holds wsj0/ (si_tr_s, si_dt_05, si_et_05) "
            "with the utterances converted to .wav."
        )
    wav, rate = sf.read(path, dtype="float64")
    if wav.ndim != 1:
        raise ValueError(f"{path} has {wav.shape[1]} channels; WSJ0 utterances are mono.")
    if rate != SOURCE_RATE:
        raise ValueError(f"{path} is at {rate} Hz; WSJ0 is at {SOURCE_RATE} Hz (was it resampled?).")
    return wav


def read_active_levels(folder):
    """``{utterance id: active power}`` from the text files in ``folder``."""
    levels = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            for line in f:
                if line.strip():
                    utt, value = line.split()
                    levels[utt] = float(value)
    return levels


def mix(utterances, powers, levels, mode):
    """``(mixture [time], sources [n_src, time])`` from utterances at one rate (see the module docstring)."""
    length = (min if mode == "min" else max)(len(u) for u in utterances)
    sources = np.zeros((len(utterances), length))
    for i, (u, power, level) in enumerate(zip(utterances, powers, levels)):
        u = u[:length] * 10 ** (level / 20) / np.sqrt(power)
        sources[i, : len(u)] = u
    mixture = sources.sum(0)
    gain = 0.9 / max(0.9, np.abs(mixture).max(), np.abs(sources).max())
    return mixture * gain, sources * gain


def _write_pcm16(path, wav, rate):
    with atomic_paths(path, durable=False) as (tmp,):
        sf.write(tmp, np.round(wav * 2**15).clip(-(2**15), 2**15 - 1).astype(np.int16), rate, format="WAV",
                 subtype="PCM_16")


def check_wsj0_root(wsj0):
    """Raise FileNotFoundError, naming ``--wsj0``, unless ``wsj0`` is a folder."""
    if not os.path.isdir(wsj0):
        raise FileNotFoundError(f"--wsj0 {wsj0!r} is not a folder: pass the WSJ0 root (LDC93S6A, converted to wav).")


def make_wsj0mix(wsj0, mix_lists, out, n_src=2, sample_rates=(8000,), modes=("min",), active_levels=None,
                 limit=None):
    """Generate wsj0-{n_src}mix into ``out`` (see the module docstring); returns the mixture counts.

    Args:
        wsj0 (str): the WSJ0 root, the folder that holds ``wsj0/`` as ``.wav`` files.
        mix_lists (str): a folder holding ``mix_{n_src}_spk_{tr,cv,tt}.txt``.
        sample_rates (tuple): output rates among 8000 and 16000.
        modes (tuple): "min" (cut to the shortest utterance) and/or "max" (padded to the longest).
        active_levels (str, optional): folder of precomputed active levels (see the module docstring).
        limit (int, optional): only the first ``limit`` mixtures of each list, for a quick trial.

    Re-running with the same settings skips finished mixtures (an interrupted run resumes);
    ``out`` is never written into when it holds other files or a corpus made otherwise.

    Raises:
        ValueError: bad settings or a mix list that does not parse; a folder that is not ours.
        FileNotFoundError: a missing list or WSJ0 utterance, with the fix in the message.
    """
    if n_src not in (2, 3):
        raise ValueError(f"n_src={n_src}: MERL's mix lists are for 2 or 3 speakers.")
    if not set(sample_rates) <= {8000, 16000} or not set(modes) <= {"min", "max"} or not sample_rates or not modes:
        raise ValueError(f"sample_rates={sample_rates}, modes={modes}: choose rates in (8000, 16000), modes in (min, max).")
    check_wsj0_root(wsj0)
    lists = find_mix_lists(mix_lists, n_src)
    entries = {split: read_mix_list(path, n_src)[:limit] for split, path in lists.items()}
    settings = dict(n_src=n_src, sample_rates=sorted(sample_rates), modes=sorted(modes), limit=limit,
                    mixtures={s: len(e) for s, e in entries.items()}, precomputed_levels=active_levels is not None)
    counts = settings["mixtures"]
    if claim_folder(out, MARKER, settings):
        return counts
    sweep_partials(out)  # files a killed run was writing: ours, and written again below
    known = read_active_levels(active_levels) if active_levels else {}
    powers = {}  # utterances recur across mixtures: one level each
    from tqdm import tqdm

    for split, split_entries in entries.items():
        folders = {(rate, mode): [os.path.join(out, f"wav{rate // 1000}k", mode, split, k)
                                  for k in ("mix", *(f"s{i + 1}" for i in range(n_src)))]
                   for rate in sample_rates for mode in modes}
        for paths in folders.values():
            for folder in paths:
                os.makedirs(folder, exist_ok=True)
        for name, rel_paths, levels in tqdm(split_entries, desc=f"wsj0-{n_src}mix {split}",
                                            disable=not sys.stderr.isatty()):
            targets = {key: [os.path.join(folder, name + ".wav") for folder in paths] for key, paths in folders.items()}
            if all(os.path.isfile(t) for files in targets.values() for t in files):
                continue
            utterances = [read_wsj0(wsj0, p) for p in rel_paths]
            for p, u in zip(rel_paths, utterances):
                utt = _utterance_id(p)
                if utt not in powers:
                    if known and utt not in known:
                        raise ValueError(f"{active_levels!r} has no active level for {utt}.")
                    powers[utt] = known[utt] if known else active_power(u, SOURCE_RATE)
            for rate in sample_rates:
                resampled = [u if rate == SOURCE_RATE else resample_poly(u, rate, SOURCE_RATE) for u in utterances]
                for mode in modes:
                    mixture, sources = mix(resampled, [powers[_utterance_id(p)] for p in rel_paths], levels, mode)
                    for path, wav in zip(targets[(rate, mode)], [mixture, *sources]):
                        _write_pcm16(path, wav, rate)
    mark_complete(out, MARKER, settings)
    return counts
