"""Files written whole or not at all.

Every file the package writes for a user (separated audio, exports, checkpoints, results) is
written under a temporary name next to it (``<name>.partial``), flushed to the disk and then
renamed over its final name, so a crash, a kill or a full disk never leaves a half-written file
under a final name, and the previous version of the file stays whole until the new one replaces it.
Files that are only known to be kept at the end are written into a scratch folder of the same
suffix (:func:`scratch_folder`). What a killed run leaves under that suffix is ours by its name:
the next run writing the same name removes it, and :func:`sweep_partials` removes all of a folder's.
"""
import contextlib
import os
import shutil

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


@contextlib.contextmanager
def scratch_folder(path):
    """Yield a new empty folder ``<path>.partial``, removed with whatever is left in it when the block ends.

    For outputs that are written first and sorted out at the end (the files to keep are renamed out
    of it, the others go with it). A leftover of a killed run under that name is removed first, as
    :func:`atomic_paths` removes its files'.

    Example:
        >>> import os, tempfile
        >>> parent = tempfile.mkdtemp()
        >>> with scratch_folder(os.path.join(parent, ".work")) as scratch:
        ...     open(os.path.join(scratch, "a.wav"), "w").close()
        ...     os.replace(os.path.join(scratch, "a.wav"), os.path.join(parent, "a.wav"))
        >>> os.path.basename(scratch), sorted(os.listdir(parent))
        ('.work.partial', ['a.wav'])
    """
    scratch = os.fspath(path) + PARTIAL_SUFFIX
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def sweep_partials(folder):
    """Remove the temporary files and scratch folders (``*.partial``) that killed runs of :func:`atomic_paths`
    and :func:`scratch_folder` left in ``folder`` and below; returns how many.

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
    for here, folders, files in os.walk(folder):
        for name in [f for f in folders if f.endswith(PARTIAL_SUFFIX)]:
            shutil.rmtree(os.path.join(here, name), ignore_errors=True)
            folders.remove(name)  # gone: nothing to walk into
            swept += 1
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
