"""Offline speech synthesis with eSpeak NG (the library and voices shipped by espeakng-loader).

Each synthetic "speaker" is an English eSpeak voice variant with its own pitch, pitch range and
speaking rate; sentences are random word strings from a fixed vocabulary. Nothing is fetched
from the network.
"""
import ctypes
import functools

import numpy as np

from ...utils.errors import SetupError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_PARAMETERS = {"rate": 1, "pitch": 3, "range": 4}
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

#: eSpeak voice variants, one per synthetic speaker family (7 male, 5 female, 4 other).
#: No variant with breath noise (f2, f3, f5): eSpeak draws it from a source we cannot seed, so the
#: same text would differ from run to run, and so would the corpus.
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "Annie", "belinda", "f4", "linda", "klatt", "klatt2", "croak",
            "Andy")
WORDS = (
    "the a one two three green blue red quick slow bright dark river mountain city garden window "
    "table music paper story letter morning evening summer winter travel simple modern ancient "
    "people market station village kitchen forest island ocean planet engine signal measure number "
    "record follow answer between under always never maybe today tomorrow yesterday open close "
    "listen speak write read carry build light heavy north south east west small large"
).split()


class Speaker:
    """One synthetic voice: an eSpeak variant plus pitch (0-99), pitch range (0-99) and rate (words/min)."""

    def __init__(self, variant, pitch, pitch_range, rate):
        self.variant, self.pitch, self.pitch_range, self.rate = variant, pitch, pitch_range, rate

    @property
    def name(self):
        return f"{self.variant}-p{self.pitch}-r{self.rate}"


def make_speakers(n, seed=0):
    """``n`` distinct speakers: variants in turn, with pitch, range and rate drawn per speaker."""
    if n > 4 * len(VARIANTS):
        raise ValueError(f"n={n} speakers is more than this voice set offers ({4 * len(VARIANTS)}).")
    rng = np.random.default_rng(seed)
    speakers, names = [], set()
    while len(speakers) < n:
        s = Speaker(VARIANTS[len(speakers) % len(VARIANTS)], int(rng.integers(25, 75)), int(rng.integers(30, 80)),
                    int(rng.integers(140, 200)))
        if s.name not in names:
            names.add(s.name)
            speakers.append(s)
    return speakers


def random_sentence(rng, n_words=(4, 9)):
    return " ".join(rng.choice(WORDS, size=int(rng.integers(*n_words))))


@functools.lru_cache(maxsize=1)
def _engine():
    """The eSpeak NG library, initialised once per process; returns ``(lib, sample_rate)``."""
    try:
        import espeakng_loader
    except ImportError as err:
        raise ImportError("Speech synthesis needs espeakng-loader: pip install espeakng-loader") from err
    lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
    if rate <= 0:
        raise SetupError(f"eSpeak NG failed to initialise (returned {rate}).")
    return lib, rate


def synthesise(text, speaker):
    """Speech of ``text`` by ``speaker``: ``(float32 waveform in [-1, 1], sample_rate)``."""
    lib, rate = _engine()
    chunks = []

    def collect(wav, n_samples, events):
        if n_samples > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0

    callback = _CALLBACK(collect)  # kept alive until synthesis ends
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(f"en+{speaker.variant}".encode()) != 0:
        raise SetupError(f"eSpeak NG has no voice en+{speaker.variant}.")
    for name, value in (("rate", speaker.rate), ("pitch", speaker.pitch), ("range", speaker.pitch_range)):
        lib.espeak_SetParameter(_PARAMETERS[name], value, 0)
    data = text.encode() + b"\0"
    lib.espeak_Synth(data, len(data), 0, 1, 0, 0, None, None)
    lib.espeak_Synchronize()
    wav = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0, np.float32)
    return wav, rate
