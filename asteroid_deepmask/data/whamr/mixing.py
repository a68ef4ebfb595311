"""WHAMR! made in this environment: the official corpus's signals from its metadata.

For each mixture the two WSJ0 utterances (16-bit levels, padded to the longer one and to the
noise's length) are played in the mixture's room (:mod:`asteroid_deepmask.data.whamr.room`); for each rate and length
the dry utterances at WHAM!'s gains set the level of each speaker (its anechoic image at the left
microphone gets the energy of the dry utterance), the speech is placed in the noise where WHAM!
places it, and the mixtures are sums. The folders are those of the official scripts:
``<out>/wav{8k,16k}/{min,max}/{tr,cv,tt}/`` with ``s{1,2}_{anechoic,reverb}``,
``mix_{clean,single,both}_{anechoic,reverb}`` and ``noise``, 32-bit float files named as the
mixture (left channel, as the scripts write by default).

The tests check this against files the official scripts wrote (``tests/fixtures/whamr/``).
"""
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ...utils.atomic import atomic_paths, sweep_partials
from ..corpus_folder import SPLITS, claim_folder, mark_complete
from .corpus import MARKER, check_whamr_inputs
from .metadata import find_metadata, load_npz, read_rows, room_geometry, scaling_path
from .room import SIMULATION_RATE, reverberate, whamr_rirs
from ..wsj0mix.corpus import read_wsj0

RATES = {8000: "8k", 16000: "16k"}
MODES = ("min", "max")
SUFFIXES = ("anechoic", "reverb")
#: The folders of one (rate, mode, split), in the order :func:`mixture_signals` returns them.
FOLDERS = (*(f"{kind}_{sfx}" for sfx in SUFFIXES for kind in ("mix_clean", "mix_single", "mix_both", "s1", "s2")),
           "noise")


def quantize(x):
    """``x`` rounded to 16-bit levels, as WSJ0-2mix's MATLAB ``wavwrite`` did.

    Example:
        >>> (quantize(np.array([0.5, 1e-6, -0.25 + 1e-6])) * 2**15).tolist()
        [16384.0, 0.0, -8192.0]
    """
    return np.round(x * 2**15).astype(np.int16) / 2**15


def read_noise(path):
    """The left channel of a WHAM! noise file (16 kHz), ``[time]``."""
    noise, rate = sf.read(path, dtype="float64")
    if rate != SIMULATION_RATE:
        raise ValueError(f"{path} is at {rate} Hz; the WHAM! noise is at {SIMULATION_RATE} Hz (was it resampled?).")
    return noise[:, 0] if noise.ndim > 1 else noise


def _at(wav, rate):
    return wav if rate == SIMULATION_RATE else resample_poly(wav, rate, SIMULATION_RATE, axis=-1)


def mixture_signals(utterances, noise_file, geometry, scaling, rates=tuple(RATES), modes=MODES):
    """Every file of one WHAMR! mixture: ``{(rate, mode): [arrays in FOLDERS order]}``.

    Args:
        utterances (list): the two WSJ0 utterances at 16 kHz, ``[time]`` each.
        noise_file (str): its WHAM! noise file.
        geometry (tuple): :func:`asteroid_deepmask.data.whamr.metadata.room_geometry` of its room row.
        scaling (dict): the mixture's entries of WHAM!'s ``scaling_<split>.npz``
            (see :mod:`asteroid_deepmask.data.whamr.metadata`).
    """
    room, mics, speakers, t60 = geometry
    anechoic_rirs, reverb_rirs = whamr_rirs(room, mics, speakers, t60)
    noise_16k = read_noise(noise_file)
    dry = np.zeros((2, max(len(noise_16k), *(len(u) for u in utterances))))  # room input: padded, start 0
    for k, u in enumerate(utterances):
        dry[k, : len(u)] = quantize(u)
    dry = dry[:, : len(noise_16k)]
    images = {sfx: reverberate(dry, rirs)[:, 0] for sfx, rirs in zip(SUFFIXES, (anechoic_rirs, reverb_rirs))}
    start_16k = int(scaling["speech_start_sample_16k"])
    out = {}
    for rate in rates:
        at_rate = {sfx: _at(wav, rate) for sfx, wav in images.items()}
        utterances_at_rate, noise_at_rate = [_at(u, rate) for u in utterances], _at(noise_16k, rate)
        start = start_16k * rate // SIMULATION_RATE
        for mode in modes:
            key = f"{RATES[rate]}_{mode}"
            levels = [quantize(u * g) * scaling[f"scaling_wham_speech_{key}"]
                      for u, g in zip(utterances_at_rate, scaling[f"scaling_wsjmix_{key}"])]
            # Each speaker's anechoic image gets the energy of its dry utterance (WSJ0-2mix's levels).
            gain = [np.sqrt(np.sum(d**2) / np.sum(a**2)) for d, a in zip(levels, at_rate["anechoic"])]
            noise = noise_at_rate * scaling[f"scaling_wham_noise_{key}"]
            length = len(noise) if mode == "max" else min(len(d) for d in levels)
            files = []
            for sfx in SUFFIXES:
                s1, s2 = (at_rate[sfx][k, :length] * gain[k] for k in range(2))
                if mode == "min":
                    placed_noise = noise[start: start + length]
                else:  # speech moved to its start in the noise; the end that passes the noise is cut
                    s1, s2 = (np.concatenate([np.zeros(start), s[: length - start]]) for s in (s1, s2))
                    placed_noise = noise
                files += [s1 + s2, placed_noise + s1, placed_noise + s1 + s2, s1, s2]
            out[(rate, mode)] = files + [placed_noise]
    return out


def make_whamr_corpus(wsj0, wham_noise, scripts, out, sample_rates=tuple(RATES), modes=MODES, limit=None, jobs=1):
    """Make WHAMR! into ``out`` from the official metadata, in this environment (see the module docstring).

    Args:
        wsj0 (str): the WSJ0 root, the folder that holds ``wsj0/`` as ``.wav`` files.
        wham_noise (str): the unpacked WHAM! noise corpus (``{tr,cv,tt}/`` and ``metadata/``).
        scripts (str): the unpacked official ``whamr_scripts`` (their ``data/`` holds the metadata).
        out (str): the corpus folder, claimed by ``whamr.json``.
        sample_rates (tuple): among 8000 and 16000 (the official scripts write both).
        modes (tuple): among "min" and "max" (the official scripts write both).
        limit (int, optional): only the first ``limit`` mixtures of each split, for a trial.
        jobs (int): processes making mixtures (1: this one).

    Returns:
        dict: the number of mixtures of each split.

    Re-running with the same settings skips finished mixtures (an interrupted run resumes);
    ``out`` is never written into when it holds other files or a corpus made otherwise.
    """
    if not sample_rates or not set(sample_rates) <= set(RATES) or not modes or not set(modes) <= set(MODES):
        raise ValueError(f"sample_rates={sample_rates}, modes={modes}: choose rates in {tuple(RATES)}, modes in {MODES}.")
    check_whamr_inputs(wsj0, wham_noise)
    metadata = find_metadata(scripts)
    scaling = {s: load_npz(scaling_path(wham_noise, s)) for s in SPLITS}
    order = {s: [str(u) for u in scaling[s]["utterance_id"]][:limit] for s in SPLITS}
    settings = dict(generator="asteroid_deepmask", sample_rates=sorted(sample_rates), modes=sorted(modes),
                    limit=limit, mixtures={s: len(o) for s, o in order.items()})
    if claim_folder(out, MARKER, settings):
        return settings["mixtures"]
    sweep_partials(out)  # files a killed run was writing: ours, and written again below
    from tqdm import tqdm

    executor = ProcessPoolExecutor(jobs) if jobs > 1 else None
    try:
        for split in SPLITS:
            todo = _split_jobs(wsj0, wham_noise, out, split, metadata[split], scaling[split], order[split],
                               sample_rates, modes)
            done = executor.map(_make_mixture, todo, chunksize=4) if executor else map(_make_mixture, todo)
            for _ in tqdm(done, total=len(todo), desc=f"WHAMR! {split}", disable=not sys.stderr.isatty()):
                pass
    finally:
        if executor:
            executor.shutdown()
    mark_complete(out, MARKER, settings)
    return settings["mixtures"]


def _split_jobs(wsj0, wham_noise, out, split, metadata, scaling, order, sample_rates, modes):
    """One job (the arguments of :func:`_make_mixture`) per mixture of ``split`` with a file still missing."""
    mix_list, rooms = (read_rows(path, key) for path, key in zip(metadata, ("output_filename", "utterance_id")))
    folders = {(rate, mode): os.path.join(out, f"wav{RATES[rate]}", mode, split)
               for rate in sample_rates for mode in modes}
    for folder in folders.values():
        for name in FOLDERS:
            os.makedirs(os.path.join(folder, name), exist_ok=True)
    jobs = []
    for index, name in enumerate(order):
        targets = {key: [os.path.join(folder, sub, name) for sub in FOLDERS] for key, folder in folders.items()}
        if all(os.path.isfile(t) for paths in targets.values() for t in paths):
            continue
        if name not in mix_list or name not in rooms:
            raise ValueError(f"{name} ({split}) is in WHAM!'s scaling_{split}.npz but not in the WHAMR! metadata "
                             f"{metadata}: are --scripts and --wham-noise from the same release?")
        utterances = [mix_list[name][f"s{k}_path"] for k in (1, 2)]
        gains = {k: v[index] for k, v in scaling.items() if k != "utterance_id"}
        jobs.append((wsj0, utterances, os.path.join(wham_noise, split, name), room_geometry(rooms[name]), gains,
                     targets))
    return jobs


def _make_mixture(job):
    """Write every file of one mixture, all renamed into place together."""
    wsj0, utterances, noise_file, geometry, gains, targets = job
    rates, modes = sorted({r for r, _ in targets}), sorted({m for _, m in targets})
    signals = mixture_signals([read_wsj0(wsj0, p) for p in utterances], noise_file, geometry, gains, rates, modes)
    with atomic_paths(*(p for paths in targets.values() for p in paths), durable=False) as temps:
        for tmp, (wav, rate) in zip(temps, ((w, key[0]) for key in targets for w in signals[key])):
            sf.write(tmp, wav, rate, format="WAV", subtype="FLOAT")
