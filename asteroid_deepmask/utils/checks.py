"""Argument checks shared by the modules: each raises a ValueError naming the value and what is allowed."""
import difflib


class UnknownArgumentError(TypeError, ValueError):
    """An argument name that a function does not take: a TypeError, as Python raises for one, and a
    ValueError, as the command-line programs report a mistake in a configuration (one line)."""


def check_positive_int(name, value):
    """Return ``value`` if it is an integer >= 1, else raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}.")
    return value


def check_count(name, value):
    """Return ``value`` if it is an integer >= 0, else raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {name}={value!r}.")
    return value


def check_known_arguments(owner, given, accepted):
    """Raise an :class:`UnknownArgumentError` naming the names in ``given`` that ``owner`` does not
    take, each with its closest accepted name if one is close, and listing the accepted ones.

    Args:
        owner (str): what takes the arguments, as the message names it.
        given (iterable of str): the names passed.
        accepted (iterable of str): the names ``owner`` takes.

    Example:
        >>> check_known_arguments("f", ["hid_sise"], ["hid_size", "n_src"])
        Traceback (most recent call last):
        ...
        asteroid_deepmask.utils.checks.UnknownArgumentError: f got an unknown argument 'hid_sise' (did you mean 'hid_size'?); it takes hid_size, n_src.
    """
    accepted = sorted(set(accepted))
    unknown = [name for name in given if name not in accepted]
    if not unknown:
        return
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, accepted, n=1)
        named.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    what = "an unknown argument" if len(unknown) == 1 else "unknown arguments"
    raise UnknownArgumentError(f"{owner} got {what} {', '.join(named)}; it takes {', '.join(accepted)}.")
