"""Separating audio files of any length with bounded memory.

A long input is cut into windows of ``window`` seconds that overlap by ``overlap`` seconds.
Windows are separated in batches of ``batch_size``, each on its own; a window's sources are put
in the order of the previous window's by the permutation that best matches them on the overlap
(largest summed inner product), and the two are cross-faded there with linear ramps. Output
blocks are written as soon as they are final, so memory holds one batch of windows'
activations and samples whatever the file length (inputs at the model's rate are read from
disk a batch of windows at a time; others are resampled in one piece). The model is any separator of
:mod:`asteroid_deepmask.deployment.separators` (torch, TorchScript or ONNX Runtime).

:func:`separate_files` is the library's way to separate files, and what ``asteroid-deepmask
separate`` runs: it checks every input and option before it writes anything. With ``active_only``
it separates into an overseparated model's P outputs and keeps those whose energy relative to the
mixture is above a threshold (:mod:`asteroid_deepmask.models.source_counting`), loudest first.
"""
import contextlib
import glob
import os
import re

import numpy as np
import soundfile as sf
import torch
from scipy.optimize import linear_sum_assignment

from ..models.source_counting import ACTIVE_THRESHOLD_DB, active_outputs
from ..utils.atomic import atomic_paths, scratch_folder
from ..utils.audio_files import probe, read_mono

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


def best_permutation(reference, estimate):
    """Order of ``estimate``'s sources ``[n_src, time]`` that best matches ``reference``'s (largest summed
    inner product, found by the Hungarian algorithm: P = 8 outputs have 40320 permutations)."""
    _, perm = linear_sum_assignment(reference @ estimate.T, maximize=True)
    return tuple(int(p) for p in perm)


def n_windows(n_samples, window, overlap):
    """Number of windows :func:`separate_windows` uses for ``n_samples``."""
    hop = window - overlap
    return 1 if n_samples <= window else -(-(n_samples - overlap) // hop)


def separate_windows(separator, wav, window, overlap, batch_size=1, progress=None):
    """Separate a mono waveform ``[time]`` window by window; yield final blocks ``[n_src, n]``.

    Args:
        separator: maps ``[batch, time]`` to ``[batch, n_src, time]`` without gradients (a
            :mod:`asteroid_deepmask.deployment.separators` separator, or any such callable).
        wav (torch.Tensor or FileSource): ``[time]`` on the separator's device, or a file read
            a batch of windows at a time.
        window (int): window length in samples.
        overlap (int): overlap in samples, ``0 <= overlap < window``.
        batch_size (int): windows separated in one call.
        progress (callable, optional): called with the number of windows after each call.

    The input is zero-padded at the end so that every window is full; the blocks,
    concatenated, have the input's length.
    """
    if not 0 <= overlap < window:
        raise ValueError(f"overlap={overlap} samples must be >= 0 and smaller than window={window}.")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be >= 1.")
    source = TensorSource(wav) if torch.is_tensor(wav) else wav
    n = len(source)
    hop, count = window - overlap, n_windows(n, window, overlap)
    span = window if count > 1 else n  # a single window is the input as it is, unpadded
    fade_in = torch.linspace(0, 1, overlap + 2, device=source.device)[1:-1]
    tail, remaining = None, n  # tail: the previous window's overlap region, not yet written
    for first in range(0, count, batch_size):
        size = min(batch_size, count - first)
        samples = source.read(first * hop, first * hop + (size - 1) * hop + span)  # zero-padded past the end
        estimates = separator(samples.unfold(0, span, hop))  # [size, span] windows, a view -> [size, n_src, span]
        for index, est in enumerate(estimates, start=first):
            if tail is not None:
                perm = best_permutation(tail.double().cpu().numpy(), est[:, :overlap].double().cpu().numpy())
                est = est[list(perm)]
                est[:, :overlap] = tail * (1 - fade_in) + est[:, :overlap] * fade_in
            last = index == count - 1
            block = est if last else est[:, : est.shape[1] - overlap]
            tail = None if last else est[:, est.shape[1] - overlap :]
            yield block[:, :remaining]
            remaining -= min(block.shape[1], remaining)
        if progress is not None:
            progress(len(estimates))


class TensorSource:
    """Samples of a mono ``[time]`` tensor, read by range and zero-padded past the end."""

    def __init__(self, wav):
        self.wav, self.device = wav, wav.device

    def __len__(self):
        return self.wav.shape[-1]

    def read(self, start, stop):
        return torch.nn.functional.pad(self.wav[start:stop], (0, max(0, stop - max(start, len(self)))))


class FileSource:
    """One channel (or the downmix) of an audio file at its own rate, read by range from disk and
    zero-padded past the end, so that memory does not grow with the file's length."""

    def __init__(self, path, channel=None, downmix=False, device="cpu"):
        self.file, self.channel, self.downmix = sf.SoundFile(path), channel or 0, downmix
        self.device = torch.device(device)

    def __len__(self):
        return self.file.frames

    def read(self, start, stop):
        self.file.seek(min(start, self.file.frames))
        data = self.file.read(stop - start, dtype="float32", always_2d=True, fill_value=0.0)
        mono = data.mean(axis=1) if self.downmix else data[:, self.channel]
        return torch.from_numpy(np.ascontiguousarray(mono)).to(self.device)

    def close(self):
        self.file.close()


def collect_inputs(patterns):
    """Audio files named by paths, folders (their audio files) and glob patterns, in order.

    Raises:
        FileNotFoundError: a path or pattern that names no audio file.
    """
    files = []
    for pattern in patterns:
        if os.path.isdir(pattern):
            found = sorted(
                os.path.join(pattern, f) for f in os.listdir(pattern) if f.lower().endswith(AUDIO_EXTENSIONS)
            )
        elif glob.has_magic(pattern):
            found = sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))
        else:
            found = [pattern] if os.path.isfile(pattern) else []
        if not found:
            raise FileNotFoundError(f"{pattern!r} names no audio file ({', '.join(AUDIO_EXTENSIONS)}).")
        files += [f for f in found if f not in files]
    return files


def check_samples(path, block_frames=1 << 16):
    """Decode all of ``path``, a block at a time, and check that every sample is finite.

    Raises:
        ValueError: the file cannot be decoded to its end, or holds NaN or infinite samples
            (named with the first one's position).
    """
    start = 0
    try:
        for block in sf.blocks(path, blocksize=block_frames, dtype="float32", always_2d=True):
            bad = np.argwhere(~np.isfinite(block))
            if len(bad):
                frame, channel = bad[0]
                raise ValueError(
                    f"{path!r} holds non-finite samples ({block[frame, channel]} at sample {start + frame}, "
                    f"channel {channel}): the file is corrupt; repair or re-export it."
                )
            start += len(block)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise ValueError(f"Cannot decode {path!r} past sample {start}: {str(err).rstrip('.')}.") from err


def check_output_folder(folder):
    """Check that ``folder`` exists as a writable folder or can be created; creates nothing.

    Raises:
        ValueError: a path component is a file, or the folder (or its nearest existing parent)
            is not writable.
    """
    path = os.path.abspath(folder)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise ValueError(f"Cannot create the output folder {folder!r}: {path!r} is a file, not a folder.")
    if not os.access(path, os.W_OK | os.X_OK):
        what = "the output folder" if path == os.path.abspath(folder) else f"{path!r}, where it would be created,"
        raise ValueError(f"Cannot write into {folder!r}: {what} is not writable; pick another -o folder.")


#: An output's file name: the input's name less its extension, and the output's number from 1.
OUTPUT_NAME = "{stem}_s{number}.wav"


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def output_paths(path, out_dir, n_src):
    """``<out_dir>/<name>_s1.wav`` ... for an input ``path``."""
    return [os.path.join(out_dir, OUTPUT_NAME.format(stem=_stem(path), number=i + 1)) for i in range(n_src)]


def earlier_outputs(path, out_dir):
    """The files in ``out_dir`` named as outputs of the input ``path`` (``<name>_s<i>.wav`` for any ``i``),
    whatever number of outputs the run that wrote them had; in the order of ``i``.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp()
        >>> for name in ("mix_s1.wav", "mix_s12.wav", "mix_s01.wav", "mix_s2.wav.txt", "mix_sx.wav", "mix2_s1.wav"):
        ...     open(os.path.join(out, name), "w").close()
        >>> [os.path.basename(p) for p in earlier_outputs("in/mix.flac", out)]
        ['mix_s1.wav', 'mix_s12.wav']
    """
    prefix, suffix = OUTPUT_NAME.format(stem=_stem(path), number="\0").split("\0")
    name = re.compile(re.escape(prefix) + "([1-9][0-9]*)" + re.escape(suffix))
    names = os.listdir(out_dir) if os.path.isdir(out_dir) else ()
    found = [(int(m.group(1)), os.path.join(out_dir, f)) for f in names
             if (m := name.fullmatch(f)) and os.path.isfile(os.path.join(out_dir, f))]
    return [p for _, p in sorted(found)]


def _energy(source, block=1 << 16):
    """Energy of a :class:`TensorSource` or :class:`FileSource`, read a block at a time."""
    return sum(float(source.read(i, min(i + block, len(source))).double().pow(2).sum())
               for i in range(0, len(source), block))


def _write_windows(separator, source, paths, window, overlap, batch_size, progress):
    """Write the separated ``source`` to ``paths`` (one per output); returns the outputs' Gram matrix
    ``[n_out, n_out]`` (their energies on its diagonal), which decides the active ones."""
    rate = int(separator.sample_rate)
    gram = torch.zeros(separator.n_src, separator.n_src, dtype=torch.float64)
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(sf.SoundFile(p, "w", samplerate=rate, channels=1, subtype="FLOAT", format="WAV"))
                   for p in paths]
        for block in separate_windows(separator, source, int(window * rate), int(overlap * rate), batch_size, progress):
            block64 = block.double()
            gram += (block64 @ block64.transpose(0, 1)).cpu()
            for writer, estimate in zip(writers, block.cpu().numpy()):
                writer.write(estimate)
    return gram


def _write_sources(separator, path, out_dir, window, overlap, channel, downmix, batch_size, progress,
                   active_threshold_db=None):
    # Outputs are written under temporary names renamed when complete: a failure leaves no partial file.
    rate = int(separator.sample_rate)
    if probe(path, channel, downmix)[1] == rate:
        source = FileSource(path, channel, downmix, separator.device)
    else:  # resampled in one piece: memory then holds the resampled input too
        source = TensorSource(read_mono(path, rate, channel=channel, downmix=downmix).to(separator.device))
    paths = output_paths(path, out_dir, separator.n_src)
    with contextlib.ExitStack() as stack:
        if isinstance(source, FileSource):
            stack.callback(source.close)
        if active_threshold_db is None:
            _write_windows(separator, source, stack.enter_context(atomic_paths(*paths)), window, overlap, batch_size,
                           progress)
            return paths
        # Which outputs are active, and their order, is known at the end: all are written into a scratch
        # folder first, then the active ones are renamed to <name>_s1.wav (the loudest) ... The folder's name
        # is this input's, so that a killed run's is removed by the next run of the input (or sweep_partials).
        scratch = stack.enter_context(scratch_folder(os.path.join(out_dir, f".{_stem(path)}.separating")))
        written = [os.path.join(scratch, os.path.basename(p)) for p in paths]
        gram = _write_windows(separator, source, written, window, overlap, batch_size, progress)
        active = active_outputs(gram, _energy(source), len(source), active_threshold_db)
        with atomic_paths(*paths[: len(active)]) as partial:
            for index, tmp in zip(active, partial):
                os.replace(written[index], tmp)
    # An earlier run's outputs of this input past the new count (the run got here with --force, or it refused
    # them) would read as sources of this one: only our names of this input go.
    for stale in sorted(set(earlier_outputs(path, out_dir)) - set(paths[: len(active)])):
        os.remove(stale)
    return paths[: len(active)]


def separate_files(model, inputs, output, window=8.0, overlap=1.0, channel=None, downmix=False, batch_size=1,
                   force=False, device="cpu", precision="32", revision=None, progress=False, active_only=False,
                   active_threshold_db=ACTIVE_THRESHOLD_DB):
    """Separate audio files into ``<output>/<name>_s1.wav`` ... at the model's sample rate.

    Every input and option is checked before anything is written: the inputs exist and decode
    to finite samples, a multi-channel file has a channel or downmix chosen, no input is shorter
    than the model takes, no two inputs write the same names, no output exists (unless
    ``force``) and the output folder can be written. Inputs at another rate are resampled; long
    files run in windows (see the module docstring).

    Args:
        model: anything :func:`~asteroid_deepmask.deployment.separators.load_separator` takes: a
            hub repository id or folder, a ``.pth`` file, an exported ``.onnx`` / TorchScript
            file, a package model or a separator.
        inputs (str or list of str): audio files, folders (their audio files) and glob patterns.
        output (str): output folder, created if needed.
        window (float): window length in seconds.
        overlap (float): overlap of consecutive windows in seconds, ``0 <= overlap < window``.
        channel (int, optional): channel of multi-channel files (0-based); excludes ``downmix``.
        downmix (bool): average the channels of multi-channel files.
        batch_size (int): windows separated in one call.
        force (bool): overwrite existing outputs.
        device, precision, revision: passed to ``load_separator``.
        progress (bool): show a progress bar (windows) on a terminal.
        active_only (bool): separate into the model's P outputs (an overseparated model's, before
            grouping) and write only the active ones (:func:`~asteroid_deepmask.models.source_counting.active_outputs`:
            their distinct energy over the whole file, relative to the mixture's, is above ``active_threshold_db``;
            blind to a residual shared by every output); numbered by decreasing energy
            (``<name>_s1.wav`` the loudest), so a file may get fewer outputs than the model has, or none.
            Needs a torch model (hub folder, ``.pth``) when P > C: exports give the grouped sources.
            Every existing ``<name>_s<i>.wav`` (any i: an earlier run's, whatever its count) is checked as an
            output name; with ``force`` those past the new active count are removed, so that the folder holds
            this run's outputs of the input and no other (files not named so are never touched).
        active_threshold_db (float): the threshold of ``active_only`` in dB relative to the mixture
            (default -20: see :mod:`asteroid_deepmask.models.source_counting`).

    Returns:
        dict: the written paths, ``[<name>_s1.wav, ...]``, of each input path.

    Raises:
        ValueError: a bad option, input or output (named in the message), before anything is written.
        FileNotFoundError: an input that names no audio file.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> folder = tempfile.mkdtemp()
        >>> sf.write(os.path.join(folder, "mix.wav"), np.zeros(8000, "float32"), 8000)
        >>> model = DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1)
        >>> written = separate_files(model, os.path.join(folder, "mix.wav"), os.path.join(folder, "out"))
        >>> [os.path.basename(p) for p in written[os.path.join(folder, "mix.wav")]]
        ['mix_s1.wav', 'mix_s2.wav']
    """
    from tqdm import tqdm

    from .separators import load_separator

    if channel is not None and downmix:
        raise ValueError("--channel and --downmix exclude each other; give one.")
    if window <= 0 or not 0 <= overlap < window:
        raise ValueError(f"--window {window} must be > 0 and 0 <= --overlap {overlap} < --window.")
    if batch_size < 1:
        raise ValueError(f"--batch-size {batch_size} must be >= 1.")
    files = collect_inputs([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)
    separator = load_separator(model, device, precision, revision, all_outputs=active_only)
    outputs = {f: output_paths(f, output, separator.n_src) for f in files}
    flat = [p for paths in outputs.values() for p in paths]
    clashes = sorted({p for p in flat if flat.count(p) > 1})
    if clashes:
        raise ValueError(f"Inputs with the same name would write the same outputs: {clashes}.")
    existing = [p for f, paths in outputs.items() for p in (earlier_outputs(f, output) if active_only else paths)
                if os.path.exists(p)]
    if existing and not force:
        raise ValueError(f"Refusing to overwrite {len(existing)} existing file(s), e.g. {existing[0]!r}; pass --force.")
    check_output_folder(output)
    rate = int(separator.sample_rate)
    total = 0
    for f in files:
        frames, file_rate = probe(f, channel, downmix)
        check_samples(f)
        length = frames * rate // file_rate
        if length < separator.min_samples:
            raise ValueError(
                f"{f!r} is too short: {length} samples at {rate} Hz, and the model needs at least "
                f"{separator.min_samples}."
            )
        total += n_windows(length, int(window * rate), int(overlap * rate))
    os.makedirs(output, exist_ok=True)
    threshold = active_threshold_db if active_only else None
    with tqdm(total=total, unit="window", desc="separating", disable=None if progress else True) as bar:
        return {f: _write_sources(separator, f, output, window, overlap, channel, downmix, batch_size, bar.update,
                                  threshold) for f in files}


def separate_file(model, path, out_dir, window=8.0, overlap=1.0, channel=None, downmix=False, batch_size=1, *,
                  force=False, **options):
    """Separate one file: :func:`separate_files` on ``[path]``; returns the written paths.

    ``options`` are those of :func:`separate_files` (``device``, ``precision``, ``revision``,
    ``progress``).
    """
    outputs = separate_files(model, [path], out_dir, window, overlap, channel, downmix, batch_size, force, **options)
    return [p for paths in outputs.values() for p in paths]
