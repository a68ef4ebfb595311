"""How the command-line programs report failures: a user's mistake in one line, a bug in full.

A user error (a wrong path, a missing permission, a bad option or file, a full disk, a tool
the environment lacks) is printed as one ``prog: error: ...`` line naming the thing and the fix,
with exit status 2. Anything else is a bug: its traceback is shown, with a line saying how to
report it, and the exit status is 1.
"""
import errno
import sys
import traceback
import warnings

from ..version import __version__


class SetupError(RuntimeError):
    """Something outside the package that the user must fix: a tool or an environment."""


class UserFacingWarning(UserWarning):
    """A warning for the person running the command (a slow choice, say): the programs always print it,
    whatever the warning filters, as one ``prog: warning: ...`` line."""


USER_ERRORS = (ValueError, FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError,
               FileExistsError, SetupError)
_DISK_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                errno.EROFS: "read-only file system"}


def run_reporting_errors(prog, func, *args):
    """Call ``func(*args)``; returns the exit status (0, 2 for a user error, 1 for a bug). A
    :class:`UserFacingWarning` raised meanwhile is printed as one ``prog: warning: ...`` line, each text
    once; other warnings are shown as they would be without it."""
    shown = set()
    show_others = warnings.showwarning

    def show(message, category, *where):
        if not issubclass(category, UserFacingWarning):
            show_others(message, category, *where)
        elif str(message) not in shown:
            shown.add(str(message))
            print(f"{prog}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserFacingWarning)
            warnings.showwarning = show
            func(*args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno not in _DISK_ERRNOS:
            return _report_bug(prog)
        where = f" while writing {err.filename!r}" if err.filename else ""
        print(f"{prog}: error: {_DISK_ERRNOS[err.errno]}{where}; free space (or pick another folder) and "
              "run the same command again: finished files are kept.", file=sys.stderr)
        return 2
    except Exception:
        return _report_bug(prog)
    return 0


def _report_bug(prog):
    traceback.print_exc()
    print(f"{prog}: unexpected error in asteroid-deepmask {__version__}: this is a bug; please report it "
          "with the command you ran and the traceback above.", file=sys.stderr)
    return 1
