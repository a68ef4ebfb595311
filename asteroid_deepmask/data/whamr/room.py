"""WHAMR!'s room simulation on today's pyroomacoustics: the impulse responses of one mixture.

Every WHAMR! mixture places two speakers and a two-microphone array in a shoebox room whose
walls absorb uniformly; the absorption follows from the room's T60 by Sabine's formula, and the
image sources go up to the order that fills the T60 for the shortest room dimension. The
reverberant impulse responses are cut to T60 seconds; the anechoic ones (order 0: the direct
path only) keep the delay and the distance attenuation, so anechoic and reverberant targets line up.

WHAMR! was made with pyroomacoustics 0.3.1 (2019). Today's release computes the same image
sources; three conventions of its impulse responses differ, and are undone here: the walls take
an energy absorption (the 2019 coefficient scaled amplitudes, so we pass ``1 - (1 - a)^2``; in
the rooms whose short T60 makes ``a > 1``, 34 of the 3000 test rooms, every reflection also
flipped the sign, which we restore), the responses lack 0.3.1's factor 1/(4 pi), and a 10 Hz
high-pass filter is applied by default (off while we compute: left on, it alone brings the
responses down to 1.3 dB SI-SDR from the 2019 ones). One difference remains: today's builder
interpolates a float32 sinc table whose abscissae are summed in float32 steps of 1/20 (0.3.1:
float64), about 5e-4 of each reflection, so the responses agree at 64 dB SI-SDR and the corpus
files at 81 dB or more (``tests/fixtures/whamr/``, ``egs/README.md``).

References:
    Maciejewski, Wichern, McQuinn, Le Roux, "WHAMR!: Noisy and Reverberant Single-Channel Speech
    Separation", ICASSP 2020.
"""
import contextlib

import numpy as np
from scipy.signal import fftconvolve

#: The rate of the simulation; 8 kHz files are resampled from it.
SIMULATION_RATE = 16000


@contextlib.contextmanager
def _pyroomacoustics_constants(**values):
    """Set pyroomacoustics' global constants for the block, then put the previous values back."""
    import pyroomacoustics as pra

    previous = {name: pra.constants.get(name) for name in values}
    for name, value in values.items():
        pra.constants.set(name, value)
    try:
        yield pra
    finally:
        for name, value in previous.items():
            pra.constants.set(name, value)


def whamr_rirs(room, mics, sources, t60, fs=SIMULATION_RATE):
    """Anechoic and reverberant impulse responses of one WHAMR! room.

    Args:
        room (sequence): the room's size in metres ``(x, y, z)``.
        mics (sequence): the microphones' positions ``[n_mics, 3]``.
        sources (sequence): the speakers' positions ``[n_src, 3]``.
        t60 (float): the reverberation time in seconds.
        fs (int): the sample rate of the responses.

    Returns:
        tuple: ``(anechoic, reverberant)``, each a list over sources of ``[n_mics, taps]`` arrays
        (float64, a unit source at 1/(4 pi) per metre; every path arrives 40 samples late, half the
        fractional-delay filter, as in pyroomacoustics 0.3.1).

    Example:
        >>> anechoic, reverberant = whamr_rirs((5, 4, 3), [(2, 2, 1.5), (2.2, 2, 1.5)],
        ...                                    [(4, 3, 1.6), (1, 1, 1.2)], t60=0.2)
        >>> reverberant[0].shape  # cut to T60: 0.2 s at 16 kHz
        (2, 3200)
        >>> int(np.argmax(np.abs(anechoic[0][0])))  # 2.24 m at 343 m/s: 104.4 samples, + 40 (see Returns)
        144
    """
    room = np.asarray(room, dtype=float)
    if room.shape != (3,) or np.any(room <= 0) or not t60 > 0:
        raise ValueError(f"room={room.tolist()}, t60={t60}: a WHAMR! room has three positive sizes and a positive T60.")
    c = 343.0  # pyroomacoustics' speed of sound, also in 0.3.1
    volume, surface = np.prod(room), 2 * (room[0] * room[1] + room[0] * room[2] + room[1] * room[2])
    amplitude_absorption = 24 * volume * np.log(10.0) / (c * surface * t60)  # Sabine
    order = int(np.ceil(t60 * c / room.min()))
    taps = int(np.ceil(t60 * fs))
    with _pyroomacoustics_constants(c=c, rir_hpf_enable=False) as pra:
        responses = []
        for max_order in (0, order):
            shoebox = pra.ShoeBox(room, fs=fs, max_order=max_order, air_absorption=False, ray_tracing=False,
                                  use_rand_ism=False,
                                  materials=pra.Material(1 - (1 - amplitude_absorption) ** 2))
            for position in sources:
                shoebox.add_source(list(position))
            shoebox.add_microphone_array(np.asarray(mics, dtype=float).T)
            shoebox.image_source_model()
            if amplitude_absorption > 1:  # 0.3.1 reflected with the factor 1 - a < 0: signs alternate by order
                for source in shoebox.sources:
                    source.damping = source.damping * (-1.0) ** source.orders
            shoebox.compute_rir()
            responses.append([_stack([shoebox.rir[m][s] for m in range(len(mics))],
                                     None if max_order == 0 else taps)
                              for s in range(len(sources))])
    return responses[0], responses[1]


def _stack(rirs, taps):
    """``[n_mics, taps]`` in 0.3.1's scale (1/(4 pi r)), zero-padded to the longest (or cut to ``taps``)."""
    length = taps or max(len(r) for r in rirs)
    out = np.zeros((len(rirs), length))
    for m, rir in enumerate(rirs):
        out[m, : min(len(rir), length)] = rir[:length]
    return out / (4 * np.pi)


def reverberate(signals, rirs):
    """Each source's signal through its impulse responses: ``[n_src, n_mics, time]``.

    Args:
        signals (sequence): one ``[time]`` array per source, all of one length.
        rirs (sequence): one ``[n_mics, taps]`` array per source (from :func:`whamr_rirs`).

    The output is as long as the longest convolution, so reverberation tails are kept whole.

    Example:
        >>> reverberate([np.ones(3)], [np.array([[1.0, 0.5]])]).round(6).tolist()
        [[[1.0, 1.5, 1.5, 0.5]]]
    """
    length = max(len(s) for s in signals) + max(r.shape[1] for r in rirs) - 1
    out = np.zeros((len(signals), rirs[0].shape[0], length))
    for s, (signal, rir) in enumerate(zip(signals, rirs)):
        wet = fftconvolve(rir, np.asarray(signal)[None, :], axes=1)
        out[s, :, : wet.shape[1]] = wet
    return out
