"""Files written whole or not at all.

Every file the package writes for a user (separated audio, exports, checkpoints, results) is
written under a temporary name next to it (``<name>.partial``), flushed to the disk and then
renamed over its final name, so a crash, a kill or a full disk never leaves a half-written file
under a final name, and the previous version of the file stays whole until the new one replaces it.
"""
import contextlib
import os

#: Appended to a final name while its content is being written.
PARTIAL_SUFFIX = ".partial"


@contextlib.contextmanager
def atomic_paths(*paths, durable=True):
    """Yield one temporary path per path in ``paths``; when the block ends normally they are flushed
    to the disk and renamed over ``paths``; when it raises they are removed and ``paths`` untouched.

    All files are renamed only once all are written, so a set of files (results and their tables)
    is replaced together. An ``OSError`` without a file name (a full disk while writing) is raised
    again with the final names, the ones the user knows.

    Args:
        *paths (str or os.PathLike): final file names.
        durable (bool): flush the files and their folder to the disk before and after the rename.
            False keeps the rename (never a half-written file under a final name) without the
            flushes: for corpus generators writing tens of thousands of files they can remake.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with atomic_paths(path) as (tmp,):
        ...     with open(tmp, "w") as f:
        ...         _ = f.write("done")
        >>> open(path).read(), os.path.exists(path + PARTIAL_SUFFIX)
        ('done', False)
    """
    paths = [os.fspath(p) for p in paths]
    temps = [path + PARTIAL_SUFFIX for path in paths]
    for tmp in temps:  # a leftover of a killed run, never a file of the user's: ours by its name
        _remove_if_present(tmp)
    try:
        yield temps
        for tmp in temps if durable else ():
            _fsync(tmp, os.O_RDONLY)
        for tmp, path in zip(temps, paths):
            os.replace(tmp, path)
        for folder in {os.path.dirname(os.path.abspath(path)) for path in paths} if durable else ():
            with contextlib.suppress(OSError):  # the renames themselves; some file systems refuse, the files are safe
                _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        if err.filename is not None or not err.errno:
            raise
        raise OSError(err.errno, err.strerror, ", ".join(paths)) from err
    finally:
        for tmp in temps:
            _remove_if_present(tmp)


def sweep_partials(folder):
    """Remove the temporary files (``*.partial``) that killed runs of :func:`atomic_paths` left in
    ``folder`` and below; returns how many.

    A step calls it when it starts writing into a folder it owns (a corpus it claimed): a file
    under a temporary name of ours is never the user's, and no other run writes there meanwhile.

    Args:
        folder (str or os.PathLike): the folder the calling step writes; a missing one holds nothing.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> for name in ("a.wav", "b.wav" + PARTIAL_SUFFIX):
        ...     open(os.path.join(folder, name), "w").close()
        >>> sweep_partials(folder), sorted(os.listdir(folder))
        (1, ['a.wav'])
    """
    swept = 0
    for here, _, files in os.walk(folder):
        for name in files:
            if name.endswith(PARTIAL_SUFFIX):
                _remove_if_present(os.path.join(here, name))
                swept += 1
    return swept


def _fsync(path, flags):
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_if_present(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
