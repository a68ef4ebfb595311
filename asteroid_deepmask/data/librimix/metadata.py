"""The LibriMix metadata: the official CSVs a corpus is made from, and the ones it is described by.

The LibriMix repository (JorisCos/LibriMix) publishes one CSV per corpus and LibriSpeech subset,
``metadata/Libri{2,3}Mix/libri{2,3}mix_<subset>.csv``, one row per mixture::

    mixture_ID, source_1_path, source_1_gain, ..., source_C_path, source_C_gain, noise_path, noise_gain

with paths relative to the LibriSpeech and WHAM! noise folders and the gains that make every
mixture deterministic. A generated corpus is described, as the official generator describes it,
by ``wav{8k,16k}/{min,max}/metadata/mixture_<subset>_<type>.csv`` (``mixture_ID, mixture_path,
source_1_path, ..., [noise_path,] length``, absolute paths) that Asteroid's ``LibriMix`` dataset reads.
"""
import csv
import os

from ...utils.atomic import atomic_paths
from ..download import download

#: Where the official metadata is downloaded from (``LIBRIMIX_METADATA_URL`` points elsewhere, e.g. a mirror).
METADATA_URL = "https://raw.githubusercontent.com/JorisCos/LibriMix/master/metadata"
#: Corpus subset -> LibriSpeech subset it is made from.
SUBSETS = {"train-360": "train-clean-360", "train-100": "train-clean-100", "dev": "dev-clean", "test": "test-clean"}


def metadata_url():
    """The base URL of the official metadata: ``$LIBRIMIX_METADATA_URL``, else :data:`METADATA_URL`."""
    return os.environ.get("LIBRIMIX_METADATA_URL", METADATA_URL)


def metadata_name(n_src, subset):
    """``libri2mix_train-clean-360.csv``-like name of the official metadata of a corpus subset."""
    return f"libri{n_src}mix_{SUBSETS[subset]}.csv"


def find_metadata(folder, n_src, subsets):
    """``{subset: path}`` of the official CSVs in ``folder`` (or its ``Libri{n}Mix/`` or ``metadata/Libri{n}Mix/``).

    Raises:
        FileNotFoundError: one is missing, naming the option and where to get it.
    """
    places = [folder, os.path.join(folder, f"Libri{n_src}Mix"), os.path.join(folder, "metadata", f"Libri{n_src}Mix")]
    found, missing = {}, []
    for subset in subsets:
        paths = [os.path.join(p, metadata_name(n_src, subset)) for p in places]
        existing = [p for p in paths if os.path.isfile(p)]
        if existing:
            found[subset] = existing[0]
        else:
            missing.append(metadata_name(n_src, subset))
    if missing:
        raise FileNotFoundError(
            f"--librimix-metadata {folder!r} holds no {', '.join(missing)}: pass the metadata/Libri{n_src}Mix "
            "folder of https://github.com/JorisCos/LibriMix (or leave the option out to download it)."
        )
    return found


def download_metadata(dest, n_src, subsets, base_url=None):
    """Download the official CSVs of ``subsets`` into ``dest`` (once); returns ``{subset: path}``."""
    base_url = base_url or metadata_url()
    return {
        s: download(f"{base_url}/Libri{n_src}Mix/{metadata_name(n_src, s)}", dest,
                    f"Download metadata/Libri{n_src}Mix of https://github.com/JorisCos/LibriMix yourself and pass "
                    "its folder with --librimix-metadata DIR.")
        for s in subsets
    }


def read_metadata(path, n_src):
    """The rows of an official CSV: ``[{"id", "sources", "gains", "noise", "noise_gain"}]``.

    Raises:
        ValueError: the file has not the columns of a ``Libri{n_src}Mix`` metadata file.
    """
    columns = [c for i in range(1, n_src + 1) for c in (f"source_{i}_path", f"source_{i}_gain")]
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        wanted = ["mixture_ID", *columns, "noise_path", "noise_gain"]
        if [c for c in fields if c.startswith("source_")] != columns or not set(wanted) <= set(fields):
            raise ValueError(f"{path} has columns {fields}, not those of the Libri{n_src}Mix metadata ({wanted}).")
        return [{"id": row["mixture_ID"],
                 "sources": [row[f"source_{i}_path"] for i in range(1, n_src + 1)],
                 "gains": [float(row[f"source_{i}_gain"]) for i in range(1, n_src + 1)],
                 "noise": row["noise_path"], "noise_gain": float(row["noise_gain"])} for row in reader]


def mixture_metadata_path(mode_dir, subset, mixture_type):
    """``<mode_dir>/metadata/mixture_<subset>_<type>.csv``, the official name of a generated subset's list."""
    return os.path.join(mode_dir, "metadata", f"mixture_{subset}_{mixture_type}.csv")


def write_mixture_metadata(mode_dir, subset, mixture_type, n_src, rows):
    """Write the list of a generated subset (official name and columns); ``rows`` are ``(mixture_ID, length)``.

    The file is written whole or not at all (:mod:`asteroid_deepmask.utils.atomic`): once there, the subset is complete.
    """
    path = mixture_metadata_path(mode_dir, subset, mixture_type)
    split_dir = os.path.abspath(os.path.join(mode_dir, subset))
    sources = ["s1"] if mixture_type == "mix_single" else [f"s{i + 1}" for i in range(n_src)]
    noise = [] if mixture_type == "mix_clean" else ["noise"]
    header = ["mixture_ID", "mixture_path", *(f"source_{i + 1}_path" for i in range(len(sources)))]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_paths(path) as (tmp,), open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*header, *(f"{k}_path" for k in noise), "length"])
        for mixture_id, length in rows:
            files = [os.path.join(split_dir, k, mixture_id + ".wav") for k in (mixture_type, *sources, *noise)]
            writer.writerow([mixture_id, *files, length])
