"""Argument checks shared by the modules: each raises a ValueError naming the value and what is allowed."""


def check_positive_int(name, value):
    """Return ``value`` if it is an integer >= 1, else raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}.")
    return value
