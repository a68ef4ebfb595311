"""DNSMOS P.835 (``sig``, ``bak``, ``ovrl``) and P.808 (``p808``) scores, the way Microsoft's DNSMOS
script computes them (the ``speechmos`` package's ``dnsmos.run``), at a fraction of its cost.

The networks are the ONNX files that the ``speechmos`` wheel ships; they are read from that package's
folder, without importing its code (which imports librosa and requests). What DNSMOS scores is kept
exactly: a clip shorter than :data:`WINDOW_S` is repeated (doubled until long enough), windows of
:data:`WINDOW_S` start every second, and each score is the mean over the windows. What costs less:

* the ONNX Runtime sessions are created once per process (:func:`dnsmos_scorer`) and reused;
* a repeated clip yields identical windows (those whose starts are equal modulo the clip's length):
  each is scored once and weighted by how often it occurs, so a 2 s clip costs 2 windows, not 7;
* windows overlap by 8 s: the convolutions of the P.835 network, which make nearly all of its cost,
  run once over the frames of all of a clip's windows (one period of them for a repeated clip), and
  only what depends on a window's own start runs per window (:class:`DnsmosScorer`), batched;
* the P.808 network takes the windows in one batched call, and its log-mel features are computed here
  in numpy, as ``librosa.feature.melspectrogram`` and ``librosa.power_to_db(ref=np.max)`` compute them
  with the parameters DNSMOS uses.

Each window's outputs equal the official networks' on it to float rounding; the scores, speechmos's to
about 1e-6 (tests/recipe/test_dnsmos_scorer.py). A clip that DNSMOS scores on one window (one from 1.13 to
1.37 s, 2.26 to 2.74 s, 4.51 to 5.49 s or 9.01 to 10.99 s long) costs one pass of each network either way.
"""
import functools
import math
from importlib import resources

import numpy as np
import onnx
import onnxruntime as ort

#: The sample rate of the DNSMOS networks.
DNSMOS_RATE = 16000
#: The scores of one clip, in the order :meth:`DnsmosScorer.__call__` returns them.
DNSMOS_SCORES = ("ovrl", "sig", "bak", "p808")
#: Seconds of audio in one scored window (DNSMOS's ``INPUT_LENGTH``); windows start every second.
WINDOW_S = 9.01
#: The P.835 network's raw outputs (sig, bak, ovrl) mapped to MOS by these polynomials (highest power
#: first), DNSMOS's fit for its non-personalised model.
P835_POLYNOMIALS = {"sig": (-0.08397278, 1.22083953, 0.0052439),
                    "bak": (-0.13166888, 1.60915514, -0.39604546),
                    "ovrl": (-0.06766283, 1.11546468, 0.04602535)}
#: The P.808 network's log-mel features: an FFT of 321 points (DNSMOS's ``frame_size + 1``), a hop of
#: 160, 120 Slaney mel bands, on a window's samples less its last hop.
MEL_FFT, MEL_HOP, MEL_BANDS = 321, 160, 120
#: Floor and dynamic range of the power-to-dB conversion (``librosa.power_to_db``'s defaults).
DB_AMIN, DB_RANGE = 1e-10, 80.0
#: The networks inside the ``speechmos`` package: its P.835 and P.808 models.
P835_MODEL, P808_MODEL = "dnsmos_models/sig_bak_ovr.onnx", "dnsmos_models/model_v8.onnx"
#: Samples in one scored window.
WINDOW = int(WINDOW_S * DNSMOS_RATE)
#: The P.835 network's frames: 320 samples every 160, 900 of them in a window.
P835_FRAME, P835_HOP = 320, 160
WINDOW_FRAMES = (WINDOW - P835_FRAME) // P835_HOP + 1
#: Where the P.835 graph is cut (:func:`p835_parts`): its frames (before the spectra), the output of its
#: fifth convolution (after the second pooling: the trunk), and its raw scores (the head).
P835_CUTS = ("mos_estimator_logpow/concat:0", "mos_estimator_logpow/conv2d_5/Relu:0", "Identity:0")
#: Frames per row of the trunk's output (two 2x2 poolings). Its row j reads frames 4j - 10 to 4j + 13 (four
#: 3x3 convolutions, a pooling, one, a pooling, one), so 3 rows at each end of a window read past its edges,
#: and a strip of a window's first (last) 24 frames alone gives them as the window does (their fields fit).
TRUNK_STRIDE, EDGE_ROWS, STRIP = 4, 3, 24
#: Frames added at both ends of one period of a repeated clip's frames (a multiple of 4 above 13: the rows
#: of the period then read real frames only).
PERIOD_CONTEXT = 16


def window_starts(n_samples):
    """Where DNSMOS's windows start in a clip of ``n_samples`` once it is repeated, and its repeated length.

    Returns:
        (list of int, int): the starts (in samples) of the windows DNSMOS scores, in order, and the
        length of the repeated clip (``n_samples`` doubled until it holds a window).

    Example:
        >>> window_starts(2 * 16000)  # repeated to 16 s: seven windows, one per second
        ([0, 16000, 32000, 48000, 64000, 80000, 96000], 256000)
    """
    length, rate = n_samples, DNSMOS_RATE
    while length < WINDOW:
        length *= 2
    starts = []
    for index in range(int(np.floor(length / rate) - WINDOW_S) + 1):
        # the same float arithmetic as DNSMOS: for starts from 7 s to 23 s it rounds the end one sample
        # short, and DNSMOS drops those windows
        start, end = int(index * rate), int((index + WINDOW_S) * rate)
        if min(end, length) - start >= WINDOW:
            starts.append(start)
    return starts, length


def slaney_mel_filters(rate=DNSMOS_RATE, n_fft=MEL_FFT, n_mels=MEL_BANDS):
    """Triangular mel filters ``[n_mels, n_fft // 2 + 1]`` on the Slaney scale (linear below 1 kHz,
    logarithmic above), each normalised to unit area (``norm="slaney"``), from 0 Hz to ``rate / 2``:
    ``librosa.filters.mel``'s defaults (``htk=False``), in float32 as librosa returns them."""
    linear_hz, log_from_hz, log_step = 200 / 3, 1000.0, np.log(6.4) / 27

    def to_mel(hz):
        hz = np.asarray(hz, dtype=np.float64)
        log_part = log_from_hz / linear_hz + np.log(np.maximum(hz, log_from_hz) / log_from_hz) / log_step
        return np.where(hz >= log_from_hz, log_part, hz / linear_hz)

    def to_hz(mel):
        log_part = log_from_hz * np.exp(log_step * (mel - log_from_hz / linear_hz))
        return np.where(mel >= log_from_hz / linear_hz, log_part, mel * linear_hz)

    edges = to_hz(np.linspace(to_mel(0.0), to_mel(rate / 2), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1 / rate)
    rising = (bins[None] - edges[:-2, None]) / np.diff(edges)[:-1, None]
    falling = (edges[2:, None] - bins[None]) / np.diff(edges)[1:, None]
    filters = np.maximum(0, np.minimum(rising, falling)) * (2 / (edges[2:] - edges[:-2]))[:, None]
    return filters.astype(np.float32)


def p808_features(windows):
    """The P.808 network's input for each window: log-mel frames ``[n_windows, 900, 120]`` (float32).

    Args:
        windows (np.ndarray): ``[n_windows, samples]`` at :data:`DNSMOS_RATE`.

    As DNSMOS computes them with librosa: the window less its last hop, zero-padded by half an FFT at
    both ends (``center=True``, ``pad_mode="constant"``), periodic Hann, power spectrum, Slaney mel
    filters, dB relative to the window's largest mel value floored 80 dB below it, then ``(dB + 40) / 40``.
    """
    audio = np.asarray(windows, dtype=np.float64)[:, :-MEL_HOP]
    padded = np.pad(audio, ((0, 0), (MEL_FFT // 2, MEL_FFT // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, MEL_FFT, axis=-1)[:, ::MEL_HOP]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(MEL_FFT) / MEL_FFT)
    spectra = np.fft.rfft(frames * hann, axis=-1)
    power = spectra.real ** 2 + spectra.imag ** 2
    mel = power @ _mel_filters().T.astype(np.float64)
    db = 10 * np.log10(np.maximum(mel, DB_AMIN))
    db -= 10 * np.log10(np.maximum(mel.max(axis=(1, 2), keepdims=True), DB_AMIN))
    db = np.maximum(db, db.max(axis=(1, 2), keepdims=True) - DB_RANGE)
    return ((db + 40) / 40).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _mel_filters():
    return slaney_mel_filters()


class DnsmosScorer:
    """DNSMOS of 16 kHz clips, with its ONNX Runtime sessions created once, here.

    The P.835 network runs in two parts cut from its graph (:func:`p835_parts`): its trunk (framewise
    log-power spectra, then convolutions and two 2x2 poolings, equivariant to shifts of 4 frames) runs
    once over the frames of all the windows of a clip, shared by the windows that overlap; its head
    (the third pooling, whose pairs depend on where a window starts, and the dense layers) runs per
    window, on the trunk's rows of that window. The trunk's rows next to a window's edges, where the
    window alone sees zero padding, are recomputed from the window's first and last :data:`STRIP`
    frames alone. A repeated clip's frames repeat every few seconds: the trunk then runs over one
    period of them. Every window's raw output equals the whole network's on that window, to float
    rounding (:meth:`p835_raw`).

    Args:
        max_batch (int): at most this many windows share one trunk run, and one head or P.808 call
            (a long recording has one window per second; this bounds the memory of a call).

    Example:
        >>> scorer = dnsmos_scorer()  # the shared scorer; its sessions are created on the first call
        >>> scores = scorer(np.zeros(16000, dtype=np.float32))
        >>> sorted(scores) == sorted(DNSMOS_SCORES)
        True
    """

    def __init__(self, max_batch=16):
        try:
            models = resources.files("speechmos")
        except ModuleNotFoundError:
            raise ModuleNotFoundError("DNSMOS reads its networks from the speechmos package: "
                                      "pip install speechmos==0.0.1.1") from None
        self.max_batch = max_batch
        self.trunk, self.head = (_session(part) for part in p835_parts((models / P835_MODEL).read_bytes()))
        self.p808 = _session((models / P808_MODEL).read_bytes())

    def __call__(self, wav):
        """Scores of one clip: ``{"ovrl", "sig", "bak", "p808"}`` (1 to 5, higher is better).

        Args:
            wav (np.ndarray): ``[time]`` at :data:`DNSMOS_RATE`, values within [-1, 1].
        """
        wav = np.asarray(wav, dtype=np.float32).reshape(-1)
        if wav.size == 0:
            raise ValueError("DNSMOS cannot score an empty clip: give it at least one sample.")
        if np.abs(wav).max() > 1:
            raise ValueError("DNSMOS reads samples within [-1, 1]: scale the clip down to a peak of 1.")
        starts, _ = window_starts(wav.size)
        # windows whose starts are equal modulo the clip's length hold the same samples: each is scored once
        _, first, counts = np.unique(np.array(starts) % wav.size, return_index=True, return_counts=True)
        order = np.argsort(first)  # in time, as p835_raw takes them
        starts, counts = np.array(starts)[first[order]], counts[order]
        raw = self.p835_raw(wav, starts).astype(np.float64)
        offsets = np.arange(WINDOW)
        p808 = np.concatenate([
            self.p808.run(None, {"input_1": p808_features(wav[(group[:, None] + offsets) % wav.size])})[0][:, 0]
            for group in np.array_split(starts, -(-len(starts) // self.max_batch))]).astype(np.float64)
        weights = counts / counts.sum()
        scores = {name: np.polyval(P835_POLYNOMIALS[name], raw[:, column])
                  for column, name in enumerate(("sig", "bak", "ovrl"))}
        scores["p808"] = p808
        return {name: float(weights @ scores[name]) for name in DNSMOS_SCORES}

    def p835_raw(self, wav, starts):
        """The P.835 network's raw outputs ``[n_windows, 3]`` (sig, bak, ovrl, before the polynomials) of
        the windows of ``wav`` repeated (``wav[i % len(wav)]``) that start at ``starts`` (whole seconds).

        Args:
            wav (np.ndarray): ``[time]`` float32 at :data:`DNSMOS_RATE`.
            starts (sequence of int): window starts in samples, multiples of :data:`DNSMOS_RATE`, increasing.
        """
        starts, groups, current = np.asarray(starts), [], []
        for start in starts:  # windows that start less than max_batch seconds apart share a trunk run
            if current and start - current[0] >= self.max_batch * DNSMOS_RATE:
                groups.append(current)
                current = []
            current.append(start)
        return np.concatenate([self._group_raw(wav, np.array(g) // P835_HOP) for g in groups + [current]])

    def _group_raw(self, wav, first):
        """Raw outputs of the windows whose first frames are ``first`` ``[n]``, from one trunk run."""
        table, row = self._trunk_rows(wav, first)
        window_rows = row(first[:, None] // TRUNK_STRIDE + np.arange(WINDOW_FRAMES // TRUNK_STRIDE))
        features = np.ascontiguousarray(table[0][:, window_rows].transpose(1, 0, 2, 3))  # [n, 32, 225, 40]
        strips = np.concatenate([first, first + WINDOW_FRAMES - STRIP])[:, None] + np.arange(STRIP)
        edges = self._trunk(_frames(wav, strips))  # [2n, 32, STRIP / 4, 40]: each strip alone, as its window
        features[:, :, :EDGE_ROWS] = edges[:len(first), :, :EDGE_ROWS]
        features[:, :, -EDGE_ROWS:] = edges[len(first):, :, -EDGE_ROWS:]
        return self.head.run(None, {P835_CUTS[1]: features})[0]

    def _trunk_rows(self, wav, first):
        """The trunk's output ``[1, 32, rows, 40]`` over the frames of the windows starting at frames
        ``first``, and a function from a row's index on the repeated clip to its index there."""
        n_frames = first.max() + WINDOW_FRAMES - first.min()
        # a repeated clip's frames (HOP apart) repeat after `period` of them; the trunk's rows after period / 4
        period = math.lcm(wav.size // math.gcd(wav.size, P835_HOP), TRUNK_STRIDE)
        if wav.size < WINDOW and period + 2 * PERIOD_CONTEXT < n_frames:
            table = self._trunk(_frames(wav, np.arange(-PERIOD_CONTEXT, period + PERIOD_CONTEXT)[None]))
            return table, lambda i: i % (period // TRUNK_STRIDE) + PERIOD_CONTEXT // TRUNK_STRIDE
        table = self._trunk(_frames(wav, np.arange(first.min(), first.min() + n_frames)[None]))
        return table, lambda i: i - first.min() // TRUNK_STRIDE

    def _trunk(self, frames):
        return self.trunk.run(None, {P835_CUTS[0]: frames})[0]


def _frames(wav, index):
    """The P.835 network's frames ``[..., 320]`` at frame indices ``index`` of ``wav`` repeated."""
    return wav[(P835_HOP * index[..., None] + np.arange(P835_FRAME)) % wav.size]


def _session(model):
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def p835_parts(model_bytes):
    """The P.835 network's graph cut at :data:`P835_CUTS` into its trunk and its head (serialised ONNX).

    The trunk maps frames ``[n, frames, 320]`` to ``[n, 32, frames // 4, 40]``, the head that to the raw
    scores ``[n, 3]``; the time axes are left free (the whole network fixes 900 frames).
    """
    model = onnx.load_from_string(model_bytes)
    nodes = list(model.graph.node)
    parts = []
    for source, target in zip(P835_CUTS[:-1], P835_CUTS[1:]):
        begin = next(i for i, node in enumerate(nodes) if source in node.input)
        end = next(i for i, node in enumerate(nodes) if target in node.output) + 1
        used = {name for node in nodes[begin:end] for name in node.input}
        graph = onnx.helper.make_graph(
            nodes[begin:end], target, [onnx.helper.make_tensor_value_info(source, onnx.TensorProto.FLOAT, None)],
            [onnx.helper.make_tensor_value_info(target, onnx.TensorProto.FLOAT, None)],
            [t for t in model.graph.initializer if t.name in used])
        part = onnx.helper.make_model(graph, opset_imports=model.opset_import)
        part.ir_version = model.ir_version
        parts.append(part.SerializeToString())
    return parts


@functools.lru_cache(maxsize=1)
def dnsmos_scorer():
    """The process's :class:`DnsmosScorer`, created on the first call (its sessions load once)."""
    return DnsmosScorer()
