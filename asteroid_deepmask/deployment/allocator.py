"""Let glibc's malloc keep freed memory for reuse, for loops of same-sized forward passes.

By default glibc gives every block above its mmap threshold (128 KiB, raised as blocks are
freed, at most 32 MiB) its own fresh pages, and returns the heap's free top to the system past
128 KiB. A separation loop frees and reallocates the same tensors (tens of MiB) at every
window, so each window pays for new pages: page faults, zero-filling and cold caches. Raising
both thresholds keeps those blocks in the heap, where the next window reuses them. The process's
peak memory is the same (one window's tensors), it is only not handed back in between.
"""
import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters of glibc's malloc.h


def retain_freed_memory(limit=1 << 30):
    """Make blocks up to ``limit`` bytes come from the heap and stay there once freed (glibc only).

    Process-wide and for the rest of the process: the ``separate`` command calls it; a library
    user decides for their own process.

    Args:
        limit (int): the mmap and trim thresholds, in bytes. Defaults to 1 GiB.

    Returns:
        bool: whether both settings were applied (False on other C libraries).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return all(mallopt(param, int(limit)) == 1 for param in (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD))
