"""Downloads for the corpus generators (at recipe time only; tests pass local folders or ``file://`` URLs).

:func:`download` fetches one file; :func:`download_and_unpack` fetches a zip or tar archive and
puts its content in place. Both write under temporary names of ours and give the final name only
to a whole file or folder, so an interrupted run leaves nothing that looks complete, and running
it again finishes the work.
"""
import os
import shutil
import tarfile
import urllib.request
import zipfile

from ..utils.atomic import atomic_paths, sweep_partials


def download(url, folder, fallback):
    """Download ``url`` into ``folder`` (kept under its own name once complete); returns its path.

    A file already there under that name is not downloaded again.

    Args:
        url (str): what to download (``http(s)://`` or ``file://``).
        folder (str): where to put it.
        fallback (str): tells the user what to do by hand when the download fails.

    Raises:
        FileNotFoundError: the download failed; the message names ``url`` and ends with ``fallback``.
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, os.path.basename(url))
    if not os.path.isfile(path):
        try:
            # durable=False: an archive lost in a crash is downloaded again, never used half-written
            with atomic_paths(path, durable=False) as (tmp,):
                urllib.request.urlretrieve(url, tmp)
        except OSError as err:
            raise FileNotFoundError(f"Could not download {url} ({err}). {fallback}") from None
    return path


def download_and_unpack(url, dest, fallback, member="", workdir=None):
    """Download the zip or tar archive at ``url`` and put its content (or its folder ``member``) at ``dest``.

    The archive is downloaded into ``workdir`` and unpacked there; its content is then renamed as
    ``dest``, or, when ``dest`` is a folder already, moved into it (what is there already is kept:
    moved by an interrupted run). ``workdir``, the archive with it, is deleted at the end. An
    interrupted run is finished by calling again: a downloaded archive is not downloaded again,
    a half-unpacked one is unpacked again.

    Args:
        url (str): the archive (``.zip``, ``.tar``, ``.tar.gz``, ...).
        dest (str): where its content goes.
        fallback (str): tells the user what to do by hand when the download fails.
        member (str): a folder of the archive to take instead of all of it (e.g. ``LibriSpeech/dev-clean``).
        workdir (str, optional): a folder of ours for the archive; default: ``.download-<name of dest>``
            next to ``dest``.

    Returns:
        str: ``dest``.

    Raises:
        FileNotFoundError: the download failed, or the archive holds no ``member``.
    """
    dest = os.fspath(dest)
    workdir = workdir or os.path.join(os.path.dirname(os.path.abspath(dest)), ".download-" + os.path.basename(dest))
    sweep_partials(workdir)  # a download killed before it was whole
    archive = download(url, workdir, fallback)
    unpacked = os.path.join(workdir, "unpacked")
    shutil.rmtree(unpacked, ignore_errors=True)  # left by an interrupted run of ours
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            z.extractall(unpacked)  # zipfile drops absolute paths and ".." components
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")  # no absolute paths, links out, or device files
    source = os.path.join(unpacked, member) if member else unpacked
    if not os.path.isdir(source):
        raise FileNotFoundError(f"{url} holds no {member}/: is it the right archive?")
    if os.path.isdir(dest):
        for name in os.listdir(source):
            if not os.path.exists(os.path.join(dest, name)):
                os.replace(os.path.join(source, name), os.path.join(dest, name))
    else:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        os.replace(source, dest)
    shutil.rmtree(workdir)
    return dest
