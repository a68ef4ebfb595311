"""Active speech level (ITU-T P.56, method B), the level wsj0-mix uses to set relative levels.

The envelope of ``|x|`` is smoothed twice with a 30 ms time constant. For thresholds ``c`` one
power of two apart, the active samples are those within a 200 ms hangover of the envelope reaching
``c``; the active level is where the level of the active samples stands 15.9 dB above the
threshold, interpolated linearly between the two thresholds around it.
"""
import numpy as np
from scipy.signal import lfilter

TIME_CONSTANT_S = 0.03
HANGOVER_S = 0.2
MARGIN_DB = 15.9


def active_power(x, sample_rate):
    """Mean power of ``x`` (``[time]``) over its active samples, in ``x``'s units squared.

    Dividing ``x`` by the square root of the result brings its active level to 0 dB.

    Raises:
        ValueError: ``x`` is empty or silent.

    Example:
        >>> t = np.arange(8000) / 8000
        >>> burst = np.sin(2 * np.pi * 200 * t)                  # power 0.5
        >>> speech_like = np.concatenate([burst, np.zeros(16000)])
        >>> round(float(active_power(speech_like, 8000)), 2)     # only the hangover of the silence counts
        0.39
    """
    x = np.asarray(x, dtype=np.float64)
    energy = float(np.sum(x**2))
    if x.size == 0 or energy == 0.0:
        raise ValueError("The signal is empty or silent: it has no active speech level.")
    g = np.exp(-1.0 / (TIME_CONSTANT_S * sample_rate))
    envelope = lfilter([1 - g], [1, -g], lfilter([1 - g], [1, -g], np.abs(x)))
    hangover = int(round(HANGOVER_S * sample_rate))
    top = int(np.ceil(np.log2(envelope.max())))
    previous = None  # (threshold dB, margin) of the last threshold above the 15.9 dB margin
    for exponent in range(top - 40, top + 1):
        above = envelope >= 2.0**exponent
        if not above.any():
            break
        # active: the envelope reached the threshold within the last `hangover` samples
        reached = np.concatenate([[0], np.cumsum(above)])
        count = np.count_nonzero(reached[1:] - reached[np.maximum(np.arange(1, x.size + 1) - hangover - 1, 0)])
        level_db = 10 * np.log10(energy / count)
        threshold_db = 20 * np.log10(2.0**exponent)
        margin = level_db - threshold_db
        if margin <= MARGIN_DB:
            if previous is None:
                return energy / count
            t0, m0 = previous
            crossing_db = t0 + (m0 - MARGIN_DB) / (m0 - margin) * (threshold_db - t0)
            return 10 ** ((crossing_db + MARGIN_DB) / 10)
        previous = (threshold_db, margin)
    return energy / x.size if previous is None else 10 ** ((previous[0] + MARGIN_DB) / 10)
