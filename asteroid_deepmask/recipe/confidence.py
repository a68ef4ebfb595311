"""Confidence intervals of a mean, for results over utterances (evaluation) and over seeds (comparison)."""
import math


def mean_ci(values, level=0.95):
    """Mean of ``values`` and the half-width of its ``level`` confidence interval (Student t, n - 1 dof).

    Args:
        values (sequence of float): one measurement per run (e.g. per seed).
        level (float): confidence level.

    Returns:
        (float, float or None): the mean, and the half-width (None for a single value).

    Example:
        >>> mean, half = mean_ci([1.0, 2.0, 3.0])
        >>> mean, round(half, 3)
        (2.0, 2.484)
    """
    from scipy.stats import t

    n = len(values)
    if n == 0:
        raise ValueError("mean_ci needs at least one value.")
    mean = math.fsum(values) / n
    if n == 1:
        return mean, None
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
