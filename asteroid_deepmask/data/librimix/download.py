"""LibriSpeech and the WHAM! noise, downloaded for LibriMix (the recipe's ``--download true``).

The archives are those of the official ``generate_librimix.sh``: LibriSpeech from openslr
(resource 12) and ``wham_noise.zip``. Each is downloaded into a ``.download*`` folder of its
destination, unpacked there, moved into place and deleted; a subset already in place is not
downloaded again, and an interrupted download starts that archive again. ``LIBRISPEECH_URL`` and
``WHAM_NOISE_URL`` point at mirrors.
"""
import os
import shutil
import urllib.request

from ..corpus_folder import SPLITS
from ..download import download_and_unpack

LIBRISPEECH_URL = "https://www.openslr.org/resources/12"
WHAM_NOISE_URL = "https://my-bucket-a8b4b49c25c811ee9a7e8bba05fa24c7.s3.amazonaws.com/wham_noise.zip"
#: Archive sizes in GB, as published (used when the server does not say).
SIZES_GB = {"train-clean-100": 6.3, "train-clean-360": 23.0, "dev-clean": 0.337, "test-clean": 0.346,
            "wham_noise": 17.0}


def has_wham_noise(folder):
    """True when ``folder`` holds the unpacked WHAM! noise (``tr``, ``cv`` and ``tt``)."""
    return all(os.path.isdir(os.path.join(folder, s)) for s in SPLITS)


def check_download_destinations(librispeech, wham_noise):
    """Raise, naming the option, when a destination of the downloads is not a folder we may fill."""
    if os.path.exists(librispeech) and not os.path.isdir(librispeech):
        raise NotADirectoryError(f"--librispeech {librispeech!r} is not a folder.")
    ours = os.path.isdir(os.path.join(wham_noise, ".download"))  # an interrupted download of ours
    if os.path.isdir(wham_noise) and os.listdir(wham_noise) and not has_wham_noise(wham_noise) and not ours:
        raise ValueError(f"--wham-noise {wham_noise!r} holds files but not the WHAM! noise (tr, cv, tt): refusing to "
                         "download into it; pass an empty or new folder.")


def planned_downloads(librispeech, wham_noise, subsets):
    """``[(name, url)]`` of the archives missing for the LibriSpeech ``subsets`` and the WHAM! noise."""
    base = os.environ.get("LIBRISPEECH_URL", LIBRISPEECH_URL)
    todo = [(s, f"{base}/{s}.tar.gz") for s in subsets if not os.path.isdir(os.path.join(librispeech, s))]
    if not has_wham_noise(wham_noise):
        todo.append(("wham_noise", os.environ.get("WHAM_NOISE_URL", WHAM_NOISE_URL)))
    return todo


def _size_gb(name, url):
    """The size of the archive at ``url`` as its server gives it, else the published one."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=30) as response:
            return int(response.headers["Content-Length"]) / 1e9
    except (OSError, TypeError, ValueError):
        return SIZES_GB[name]


def _size_text(gb):
    return f"{gb:.1f} GB" if gb >= 0.1 else f"{gb * 1e3:.2f} MB"


def _free_gb(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free / 1e9


def fetch_corpora(librispeech, wham_noise, subsets):
    """Download and unpack what :func:`planned_downloads` lists, after printing the sizes.

    Args:
        librispeech (str): the LibriSpeech folder; ``<librispeech>/<subset>/`` is added for each subset.
        wham_noise (str): the WHAM! noise folder; gets ``tr``, ``cv``, ``tt``, ``metadata``.
        subsets (list of str): LibriSpeech subsets, e.g. ``["train-clean-360", "dev-clean"]``.

    Raises:
        ValueError: a destination has not the room for its archives and their contents.
    """
    check_download_destinations(librispeech, wham_noise)
    todo = planned_downloads(librispeech, wham_noise, subsets)
    sizes = {name: _size_gb(name, url) for name, url in todo}
    for name, url in todo:
        print(f"download: {name}, {_size_text(sizes[name])}, from {url}", flush=True)
    for dest, names in ((librispeech, [n for n, _ in todo if n != "wham_noise"]),
                        (wham_noise, [n for n, _ in todo if n == "wham_noise"])):
        need = sum(sizes[n] for n in names) + max((sizes[n] for n in names), default=0)  # data, and one archive
        if need > _free_gb(dest):
            raise ValueError(f"Downloading {', '.join(names)} into {dest!r} needs about {need:.0f} GB; "
                             f"{_free_gb(dest):.0f} GB are free there. Free space or pass another folder.")
    for name, url in todo:
        fallback = f"Download {url} yourself, unpack it, and pass its folder to the recipe."
        if name == "wham_noise":  # its folder may be there (empty, or ours): the work folder goes inside it
            download_and_unpack(url, wham_noise, fallback, "wham_noise", os.path.join(wham_noise, ".download"))
        else:
            download_and_unpack(url, os.path.join(librispeech, name), fallback, f"LibriSpeech/{name}")
