"""LibriMix (Cosentino et al. 2020): Libri2Mix and Libri3Mix made from LibriSpeech and the WHAM!
noise with the official metadata, and the layout experiments read.

A corpus folder (``Libri2Mix/``) holds ``wav{8k,16k}/{min,max}/<subset>/<folder>/<mixture_ID>.wav``
for the subsets ``train-360``, ``train-100``, ``dev``, ``test`` and the folders ``mix_clean``,
``mix_both``, ``mix_single``, ``s1``, ``s2`` (``s3``) and ``noise``, and, per rate and mode,
``metadata/mixture_<subset>_<type>.csv`` (see :mod:`asteroid_deepmask.data.librimix.metadata`).
An experiment's ``data`` section (``dataset: librimix``) chooses ``task``, ``n_src``,
``sample_rate``, ``mode`` and ``train_set``; validation is ``dev``, test is ``test``.

:func:`generate_librimix` makes the parts an experiment needs, each mixture computed as the official
generator does (:mod:`asteroid_deepmask.data.librimix.mixing`). It is resumable: a file is written
under a temporary name and renamed, a mixture whose files are all there is skipped, and a subset whose lists
(``mixture_<subset>_<type>.csv``, written last) are there is not looked at again: those lists,
not the ``complete`` flag of the marker, say what is done. The folder is claimed by
``librimix.json``; one holding other files is refused.
"""
import functools
import os
from concurrent.futures import ProcessPoolExecutor

import soundfile as sf

from ...utils.atomic import atomic_paths, sweep_partials
from ..corpus_folder import claim_folder, mark_complete
from .download import check_download_destinations, fetch_corpora
from .metadata import (SUBSETS, download_metadata, find_metadata, mixture_metadata_path, read_metadata,
                                write_mixture_metadata)
from .mixing import (MIXTURE_TYPES, fit_lengths, mixtures, read_noise, read_utterance,
                              scale_and_resample)

MARKER = "librimix.json"
#: ``data.task`` -> (mixture folder, target folders ({i} from 1), mixture types stage 0 makes for it).
TASKS = {
    "sep_clean": ("mix_clean", "s{i}", ("mix_clean",)),
    "sep_noisy": ("mix_both", "s{i}", ("mix_both",)),
    "enh_single": ("mix_single", "s1", ("mix_single",)),
    "enh_both": ("mix_both", "mix_clean", ("mix_both", "mix_clean")),
}
TRAIN_SETS = ("train-360", "train-100")
#: Corpus subset -> its WHAM! noise split.
_NOISE_SPLITS = {"train-360": "tr", "train-100": "tr", "dev": "cv", "test": "tt"}


def task_layout(task, n_src):
    """``(mixture folder, target folder pattern, number of targets)`` of a LibriMix task.

    Example:
        >>> task_layout("sep_noisy", 3), task_layout("enh_both", 2)
        (('mix_both', 's{i}', 3), ('mix_both', 'mix_clean', 1))
    """
    mixture, targets, _ = _task(task)
    return mixture, targets, n_src if "{i}" in targets else 1


def _task(task):
    if task not in TASKS:
        raise ValueError(f"data.task={task!r}: LibriMix tasks are {sorted(TASKS)}.")
    return TASKS[task]


def split_folders(train_set):
    """``{"tr", "cv", "tt"}`` -> LibriMix subset folder, for ``data.train_set``."""
    if train_set not in TRAIN_SETS:
        raise ValueError(f"data.train_set={train_set!r}: choose one of {TRAIN_SETS}.")
    return {"tr": train_set, "cv": "dev", "tt": "test"}


def corpus_plan(data, sample_rates=None, modes=None, subsets=None, types=None):
    """What stage 0 makes for an experiment's ``data`` section, unless the arguments say otherwise.

    Returns:
        dict: ``n_src``, ``sample_rates``, ``modes``, ``subsets`` and ``types`` (sorted lists but n_src).

    Example:
        >>> corpus_plan({"dataset": "librimix", "task": "sep_noisy", "n_src": 2, "sample_rate": 8000,
        ...              "mode": "min", "train_set": "train-100"})["subsets"]
        ['dev', 'test', 'train-100']
    """
    if data.get("dataset") != "librimix":
        raise ValueError(f"data.dataset={data.get('dataset')!r}: the LibriMix recipe needs a LibriMix experiment "
                         "(hparams/librimix/).")
    plan = {"n_src": int(data.get("n_src", 2)),
            "sample_rates": sorted(sample_rates or [int(data.get("sample_rate", 8000))]),
            "modes": sorted(modes or [data.get("mode", "min")]),
            "subsets": sorted(subsets or split_folders(data.get("train_set", "train-360")).values()),
            "types": sorted(types or _task(data.get("task", "sep_clean"))[2])}
    checks = (("n_src", [plan["n_src"]], (2, 3)), ("sample rate", plan["sample_rates"], (8000, 16000)),
              ("mode", plan["modes"], ("min", "max")), ("subset", plan["subsets"], tuple(SUBSETS)),
              ("mixture type", plan["types"], MIXTURE_TYPES))
    for name, values, allowed in checks:
        if not set(values) <= set(allowed):
            raise ValueError(f"LibriMix {name} {values}: choose among {list(allowed)}.")
    return plan


def check_librimix_inputs(librispeech, wham_noise, subsets, download=False):
    """Raise, naming the option, unless the LibriSpeech subsets and WHAM! splits of ``subsets`` are there.

    With ``download``, only check that the downloads may go where the options point.
    """
    if download:
        check_download_destinations(librispeech, wham_noise)
        return
    for option, path, what in (("--librispeech", librispeech, "the LibriSpeech folder (holding train-clean-360/, ...)"),
                               ("--wham-noise", wham_noise, "the unpacked WHAM! noise folder (holding tr/, cv/, tt/)")):
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{option} {path!r} is not a folder: pass {what}, or add --download true.")
    needed = [(os.path.join(librispeech, SUBSETS[s]), "--librispeech") for s in subsets]
    needed += [(os.path.join(wham_noise, _NOISE_SPLITS[s]), "--wham-noise") for s in subsets]
    missing = sorted({(path, option) for path, option in needed if not os.path.isdir(path)})
    if missing:
        raise FileNotFoundError(f"No {', '.join(p for p, _ in missing)}: check {missing[0][1]}, or add --download "
                                "true to fetch what is missing.")


def claim_corpus(out, n_src):
    """Claim ``out`` for Libri{n_src}Mix (see :mod:`asteroid_deepmask.data.corpus_folder`); refuses a folder
    named for another count."""
    name = os.path.basename(os.path.normpath(out))
    if name.lower() in {f"libri{n}mix" for n in (2, 3) if n != n_src}:
        raise ValueError(f"{out!r} is named for another corpus than Libri{n_src}Mix: check --n-src or --corpus.")
    claim_folder(out, MARKER, _settings(n_src))


def _settings(n_src):
    return {"corpus": f"Libri{n_src}Mix"}


def generate_librimix(librispeech, wham_noise, out, plan, metadata=None, download=False, jobs=1, limit=None):
    """Stage 0: check every path, claim ``out``, get the metadata (and the corpora), make the corpus.

    Args:
        librispeech (str): the LibriSpeech folder (``train-clean-360/``, ``dev-clean/``, ...).
        wham_noise (str): the unpacked WHAM! noise (``tr/``, ``cv/``, ``tt/``).
        out (str): the corpus folder (``Libri2Mix/``).
        plan (dict): from :func:`corpus_plan`.
        metadata (str, optional): a folder of the official CSVs; None downloads them into ``out/metadata``.
        download (bool): download the missing LibriSpeech subsets and the WHAM! noise first.
        jobs (int): processes making mixtures.
        limit (int, optional): only the first ``limit`` mixtures of each subset, for a trial.
    """
    n_src, subsets = plan["n_src"], plan["subsets"]
    check_librimix_inputs(librispeech, wham_noise, subsets, download)
    csvs = find_metadata(metadata, n_src, subsets) if metadata else None
    claim_corpus(out, n_src)
    sweep_partials(out)  # files a killed run was writing: ours, and written again below
    csvs = csvs or download_metadata(os.path.join(out, "metadata"), n_src, subsets)
    if download:
        fetch_corpora(librispeech, wham_noise, [SUBSETS[s] for s in subsets])
        check_librimix_inputs(librispeech, wham_noise, subsets)
    make_librimix(librispeech, wham_noise, csvs, out, plan, jobs, limit)


def make_librimix(librispeech, wham_noise, metadata, out, plan, jobs=1, limit=None):
    """Make the subsets of ``plan`` in the folder ``out``, claimed by :func:`claim_corpus`.

    Args:
        librispeech (str): the LibriSpeech folder.
        wham_noise (str): the unpacked WHAM! noise.
        metadata (dict): ``{subset: path}`` of the official CSVs.
        out (str): the corpus folder.
        plan (dict): from :func:`corpus_plan`.
        jobs (int): processes making mixtures (1: this one).
        limit (int, optional): only the first ``limit`` mixtures of each subset; no lists are written.

    Returns:
        dict: ``{subset: number of mixtures}``.
    """
    counts, worked = {}, False
    executor = ProcessPoolExecutor(jobs) if jobs > 1 else None
    try:
        for subset in plan["subsets"]:
            rows = read_metadata(metadata[subset], plan["n_src"])[:limit]
            counts[subset] = len(rows)
            worked |= _make_subset(_Subset(librispeech, wham_noise, out, subset, plan), rows, executor, limit is None)
    finally:
        if executor:
            executor.shutdown()
    if worked:  # a run with nothing to do leaves every file as it was, the marker included
        mark_complete(out, MARKER, _settings(plan["n_src"]))
    return counts


class _Subset:
    """Where the files of one subset go, for every rate and mode of a plan (sent to the worker processes)."""

    def __init__(self, librispeech, wham_noise, out, subset, plan):
        self.librispeech, self.wham_noise, self.subset = librispeech, wham_noise, subset
        self.n_src, self.types = plan["n_src"], plan["types"]
        self.parts = [(rate, mode) for rate in plan["sample_rates"] for mode in plan["modes"]]
        self.mode_dirs = {(r, m): os.path.join(out, f"wav{r // 1000}k", m) for r, m in self.parts}
        noise = ["noise"] if set(self.types) != {"mix_clean"} else []  # as the official script: none for mix_clean only
        self.folders = [f"s{i + 1}" for i in range(self.n_src)] + noise + list(self.types)

    def path(self, part, folder, mixture_id):
        return os.path.join(self.mode_dirs[part], self.subset, folder, mixture_id + ".wav")

    def lists(self):
        """``[(part, type)]`` whose ``mixture_<subset>_<type>.csv`` is not written yet."""
        return [(p, t) for p in self.parts for t in self.types
                if not os.path.isfile(mixture_metadata_path(self.mode_dirs[p], self.subset, t))]


def _make_subset(subset, rows, executor, write_lists):
    """Make (or finish) one subset; False when its lists say it is complete."""
    todo = subset.lists()
    label = f"{subset.subset} ({', '.join(f'wav{r // 1000}k/{m}' for r, m in subset.parts)})"
    if not todo and write_lists:
        print(f"librimix: {label} is complete", flush=True)
        return False
    for part in subset.parts:
        for folder in subset.folders:
            os.makedirs(os.path.join(subset.mode_dirs[part], subset.subset, folder), exist_ok=True)
    work = functools.partial(_make_mixture, subset)
    results = executor.map(work, rows, chunksize=8) if executor else map(work, rows)
    lengths, step = [], max(1, len(rows) // 20)
    for done, result in enumerate(results, 1):
        lengths.append(result)
        if done % step == 0 or done == len(rows):
            print(f"librimix: {label}: {done}/{len(rows)} mixtures ({100 * done // len(rows)} %)", flush=True)
    for part, mixture_type in todo if write_lists else ():
        write_mixture_metadata(subset.mode_dirs[part], subset.subset, mixture_type, subset.n_src,
                               [(row["id"], length[part]) for row, length in zip(rows, lengths)])
    return True


def _make_mixture(subset, row):
    """Write the missing files of one metadata row; returns ``{(rate, mode): samples}``."""
    missing = {p: [f for f in subset.folders if not os.path.isfile(subset.path(p, f, row["id"]))] for p in subset.parts}
    lengths = {p: sf.info(subset.path(p, subset.types[0], row["id"])).frames for p in subset.parts if not missing[p]}
    if len(lengths) == len(subset.parts):
        return lengths
    utterances = [read_utterance(subset.librispeech, p) for p in row["sources"]]
    noise = read_noise(subset.wham_noise, row["noise"], max(len(u) for u in utterances))
    for rate in sorted({r for r, m in subset.parts if missing[(r, m)]}):
        resampled = scale_and_resample([*utterances, noise], [*row["gains"], row["noise_gain"]], rate)
        for part in [(r, m) for r, m in subset.parts if r == rate and missing[(r, m)]]:
            fitted = fit_lengths(resampled, part[1])
            signals = {f"s{i + 1}": fitted[i] for i in range(subset.n_src)}
            signals.update(noise=fitted[-1], **mixtures(fitted, subset.n_src, subset.types))
            for folder in missing[part]:
                _write(subset.path(part, folder, row["id"]), signals[folder], rate)
            lengths[part] = len(fitted[0])
    return lengths


def _write(path, wav, rate):
    with atomic_paths(path, durable=False) as (tmp,):
        sf.write(tmp, wav, rate, format="WAV", subtype="PCM_16")  # 16-bit, as the official sf.write default
