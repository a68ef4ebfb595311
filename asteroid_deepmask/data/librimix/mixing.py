"""The signals of one LibriMix mixture, computed as the official generator computes them.

The official ``create_librimix_from_metadata.py`` (JorisCos/LibriMix) makes a mixture from one
metadata row: it reads the LibriSpeech utterances and the WHAM! noise (first channel, only as
many samples as the longest utterance, looped with a Hann crossfade when shorter), multiplies
each by its gain from the row (the loudness normalisation, computed once when the metadata was
made, clipping included), resamples from 16 kHz with ``scipy.signal.resample_poly``, and cuts
every signal to the shortest ("min") or zero-pads it to the longest ("max"). A mixture is then
the plain sum of its signals, without any further scaling:

* ``mix_clean``: the utterances;
* ``mix_both``: the utterances and the noise;
* ``mix_single``: the first utterance and the noise.

The WHAM! noise of ``train-360`` also uses copies of the training noise played 0.8 and 1.2 times
as fast (``<name>sp08.wav``, ``<name>sp12.wav``), which the official recipe makes with SoX's
``speed`` effect; :func:`speed_perturb` does it with ``resample_poly`` (see egs/README.md).
"""
import io
import os
import re
from fractions import Fraction

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

#: Rate of LibriSpeech and of the WHAM! noise.
SOURCE_RATE = 16000
#: A noise shorter than the utterances is looped with a crossfade this long (half a second).
CROSSFADE = SOURCE_RATE // 2
#: ``<name>sp08.wav``: the WHAM! noise ``<name>.wav`` at speed 0.8 (the official file names).
_SPEED_NAME = re.compile(r"^(?P<stem>.+)sp(?P<digits>08|12)\.wav$")
MIXTURE_TYPES = ("mix_clean", "mix_both", "mix_single")


def speed_perturb(wav, factor):
    """``wav`` played ``factor`` times as fast at the same rate: ``[time] -> [time / factor]``.

    Args:
        wav (numpy.ndarray): ``[time]``.
        factor (float): speed, e.g. 0.8 (slower and lower) or 1.2.

    Returns:
        numpy.ndarray: ``[ceil(time / factor)]``.

    Example:
        >>> speed_perturb(np.zeros(1000), 0.8).shape, speed_perturb(np.zeros(1200), 1.2).shape
        ((1250,), (1000,))
    """
    ratio = Fraction(factor).limit_denominator(100)
    return resample_poly(wav, ratio.denominator, ratio.numerator)


def loop_noise(noise, length, crossfade=CROSSFADE):
    """``noise`` repeated up to ``length`` samples, each repetition faded in over the end of the last.

    Args:
        noise (numpy.ndarray): ``[time]``, more than ``crossfade + 1`` samples.
        length (int): samples wanted.
        crossfade (int): samples over which a repetition fades in (half a Hann window each way).

    Returns:
        numpy.ndarray: ``[length]``.

    Example:
        >>> loop_noise(np.ones(100), 250, crossfade=20).shape
        (250,)
    """
    rise = np.hanning(2 * crossfade + 1)[: crossfade + 1]  # 0 -> 1; the fall is its mirror
    if len(noise) <= len(rise):
        raise ValueError(f"A noise of {len(noise)} samples is too short to loop with a {crossfade}-sample crossfade.")
    looped = noise
    while len(looped) < length:
        overlap = looped[-len(rise):] * rise[::-1] + noise[: len(rise)] * rise
        looped = np.concatenate([looped[: -len(rise)], overlap, noise[len(rise):]])
    return looped[:length]


def _as_written(wav, rate, stop=None):
    """``wav`` after a round trip through a 16-bit WAV file, as the official recipe stores augmented noise."""
    buffer = io.BytesIO()
    sf.write(buffer, wav, rate, format="WAV", subtype="PCM_16")
    buffer.seek(0)
    return sf.read(buffer, dtype="float32", stop=stop)[0]


def _first_channel(wav):
    return wav[:, 0] if wav.ndim > 1 else wav


def read_noise(wham_noise, relative, length):
    """The WHAM! noise of a metadata row: ``[length]`` at 16 kHz, first channel, looped when shorter.

    A speed-perturbed file (``tr/<name>sp08.wav``) is read when ``wham_noise`` holds it (made by
    the official ``augment_train_noise.py``), else computed from ``tr/<name>.wav``.

    Raises:
        FileNotFoundError: neither the file nor, for a perturbed one, its original is there.
    """
    path = os.path.join(wham_noise, relative)
    if os.path.isfile(path):
        noise = _first_channel(sf.read(path, dtype="float32", stop=length)[0])
    else:
        match = _SPEED_NAME.match(os.path.basename(relative))
        original = match and os.path.join(os.path.dirname(path), match["stem"] + ".wav")
        if not original or not os.path.isfile(original):
            raise FileNotFoundError(
                f"{path} not found: --wham-noise must be the unpacked WHAM! noise folder (holding tr, cv, tt)."
            )
        wav, rate = sf.read(original, dtype="float32")
        noise = _as_written(speed_perturb(_first_channel(wav), int(match["digits"]) / 10), rate, stop=length)
    return loop_noise(noise, length) if len(noise) < length else noise


def read_utterance(librispeech, relative):
    """A LibriSpeech utterance ``[time]`` at 16 kHz, from its path in a metadata row."""
    path = os.path.join(librispeech, relative)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: --librispeech must be the LibriSpeech folder holding {relative.split('/')[0]}/ "
            "(or add --download true)."
        )
    return sf.read(path, dtype="float32")[0]


# The official script computes in the precision of what it reads (float32, float64 for a looped noise),
# and so do these functions: the files they make are then the official ones, sample for sample.


def fit_lengths(signals, mode):
    """``signals`` (``[time]`` each) cut to the shortest (``"min"``) or zero-padded to the longest (``"max"``).

    Example:
        >>> [len(s) for s in fit_lengths([np.ones(3), np.ones(5)], "max")]
        [5, 5]
    """
    length = (min if mode == "min" else max)(len(s) for s in signals)
    return [np.pad(s[:length], (0, length - min(length, len(s)))) for s in signals]


def scale_and_resample(signals, gains, rate):
    """Each signal (``[time]``) times its gain, resampled from 16 kHz to ``rate``; a list, as lengths differ."""
    return [resample_poly(s * float(g), rate, SOURCE_RATE) for s, g in zip(signals, gains)]


def mixtures(fitted, n_src, types):
    """``{type: mixture [time]}`` of ``fitted`` (the utterances, then the noise, of one length)."""
    parts = {"mix_clean": fitted[:n_src], "mix_both": fitted, "mix_single": [fitted[0], fitted[-1]]}
    return {t: _added(parts[t]) for t in types}


def _added(signals):
    total = np.zeros_like(signals[0])  # in the first signal's precision, added in order, as the official script
    for signal in signals:
        total += signal
    return total
