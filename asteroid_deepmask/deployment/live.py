"""Live separation from a file or standard input, block by block: what ``asteroid-deepmask stream`` runs.

The input is a file (read, resampled to the model's rate if needed, then fed block by block as if
it arrived live) or ``-``, raw mono PCM on standard input (``int16`` or ``float32`` at the model's
rate, e.g. from ``arecord``). Each block's sources are written as soon as they are made: to
``<out>/<name>_s1.wav`` ... or, with ``-o -``, to standard output as raw PCM of the input's
format with the sources interleaved. At the end of the input, or at Ctrl-C, the stream is flushed
and the files closed whole; then the latency a listener hears (the block plus the model's
algorithmic latency), the median and 99th-percentile time per
block and the real-time factor are reported.
"""
import contextlib
import io
import os
import select
import sys
import time

import numpy as np
import soundfile as sf
import torch

from ..utils.audio_files import probe, read_mono
from .long_files import check_output_folder, output_paths
from .streamers import load_streamer
from .streaming_export import block_samples

#: Raw PCM formats of standard input and output, with their numpy types and full scale.
RAW_FORMATS = {"int16": (np.int16, 32768.0), "float32": (np.float32, 1.0)}
#: The name of the outputs of a stream read from standard input.
STDIN_NAME = "stream"


def _file_blocks(wav, block):
    for start in range(0, wav.shape[-1], block):
        yield wav[start:start + block]


#: Longest wait for input before Python runs the signal handlers that are due (Ctrl-C), in seconds.
INPUT_WAIT_S = 0.1


def _read_interruptibly(stream, size):
    """Up to ``size`` bytes of ``stream`` (fewer only at its end; ``b""`` there).

    A Ctrl-C to the process may be given by the kernel to any of its threads (torch's and ONNX
    Runtime's workers too); then a blocking read in the main thread is not interrupted, and the
    stream would wait for input that may never come. So a pipe or terminal is read only once
    ``select`` says it has data, waiting at most ``INPUT_WAIT_S`` at a time: between the waits
    Python runs its handler and the ``KeyboardInterrupt`` reaches the stream. Streams without a
    file descriptor (in memory) and Windows, where ``select`` takes sockets only, read as usual.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd is None or os.name == "nt":
        return stream.read(size)
    data = b""
    while len(data) < size:
        if not select.select([fd], [], [], INPUT_WAIT_S)[0]:
            continue
        chunk = os.read(fd, size - len(data))  # the only reader of this descriptor: no buffer to bypass
        if not chunk:
            break
        data += chunk
    return data


def _stdin_blocks(stream, block, raw_format):
    dtype, scale = RAW_FORMATS[raw_format]
    size = block * np.dtype(dtype).itemsize
    while True:
        data = _read_interruptibly(stream, size)
        if not data:
            return
        usable = len(data) - len(data) % np.dtype(dtype).itemsize
        yield torch.from_numpy(np.frombuffer(data[:usable], dtype=dtype).astype(np.float32) / scale)


class _RawWriter:
    """Interleaved sources to a binary stream, in the input's raw format."""

    def __init__(self, stream, raw_format):
        self.stream, (self.dtype, self.scale) = stream, RAW_FORMATS[raw_format]

    def write(self, sources):  # [n_src, samples]
        frames = sources.T * self.scale
        if self.dtype == np.int16:
            frames = np.clip(np.round(frames), -32768, 32767)
        self.stream.write(np.ascontiguousarray(frames, dtype=self.dtype).tobytes())
        self.stream.flush()


class _WavWriters:
    """One wav file per source, written as the samples come."""

    def __init__(self, paths, rate, stack):
        self.files = [stack.enter_context(sf.SoundFile(p, "w", samplerate=rate, channels=1, subtype="FLOAT",
                                                       format="WAV")) for p in paths]

    def write(self, sources):  # [n_src, samples]
        for file, samples in zip(self.files, sources):
            file.write(samples)


def stream_file(model, input, output, block_ms=None, raw_rate=None, raw_format="int16", channel=None, downmix=False,
                force=False, device="cpu", revision=None, stdin=None, stdout=None, precision="32"):
    """Separate ``input`` (a file, or ``"-"``: raw PCM on ``stdin``) block by block with a streaming model.

    Args:
        model: a causal model, hub folder or repository id, ``.pth`` file, or a streaming export
            (:func:`~.streamers.load_streamer`).
        input (str): an audio file, or ``"-"`` for raw mono PCM on standard input.
        output (str): a folder for ``<name>_s<i>.wav``, or ``"-"`` for raw PCM on standard output.
        block_ms (float, optional): block length in ms; default: a streaming export's own block,
            else 10 ms. A multiple of the model's stride.
        raw_rate (int, optional): sample rate of raw input; must be the model's.
        raw_format (str): ``"int16"`` or ``"float32"`` (raw input, and raw output).
        channel, downmix: how to take one channel of a multi-channel file.
        force (bool): overwrite existing output files.
        device (str): where a torch model runs.
        revision (str, optional): hub revision.
        stdin, stdout: binary streams (default: the process's).
        precision (str): ``"32"``, or ``"int8"`` for a torch model in dynamic int8 (:func:`~.streamers.load_streamer`).

    Returns:
        dict: ``latency`` (samples), ``block`` (samples), ``blocks``, ``median_ms``, ``p99_ms``,
        ``real_time_factor``, ``outputs`` (paths, or ``["-"]``), ``interrupted`` and ``precision``.

    Raises:
        ValueError: a bad input, option or model (named in the message).
    """
    if raw_format not in RAW_FORMATS:
        raise ValueError(f"Unknown --raw-format {raw_format!r}: choose one of {', '.join(RAW_FORMATS)}.")
    if input != "-" and raw_rate is not None:
        raise ValueError("--raw-rate describes raw PCM on standard input; give the input as '-' or drop --raw-rate.")
    if input == "-" and raw_rate is None:
        raise ValueError("Raw PCM on standard input has no header: give its sample rate with --raw-rate "
                         "(and --raw-format int16 or float32).")
    if input != "-":
        if not os.path.isfile(input):
            raise ValueError(f"No input file {input!r}; give an audio file, or '-' for raw PCM on standard input.")
        probe(input, channel, downmix)
    if output != "-":
        check_output_folder(output)
    streamer = load_streamer(model, device, revision, precision)
    rate = int(streamer.sample_rate)
    exported_block = getattr(streamer, "block", None)
    if block_ms is None:
        block = exported_block or block_samples(streamer, None, name="--block-ms")
    else:
        block = block_samples(streamer, block_ms, name="--block-ms")
        if exported_block and block != exported_block:
            raise ValueError(f"{model!r} was exported for blocks of {exported_block} samples "
                             f"({1000 * exported_block / rate:g} ms); drop --block-ms or re-export with "
                             f"--block-ms {block_ms:g}.")
    if input == "-":
        if int(raw_rate) != rate:
            raise ValueError(f"The raw input is at {raw_rate} Hz but the model takes {rate} Hz; raw PCM cannot be "
                             f"resampled here: record or convert it at {rate} Hz (e.g. arecord -r {rate}).")
        name = STDIN_NAME
        blocks = _stdin_blocks(stdin or sys.stdin.buffer, block, raw_format)
    else:
        name = input
        blocks = _file_blocks(read_mono(input, rate, channel, downmix), block)
    paths = ["-"] if output == "-" else output_paths(name, output, streamer.n_src)
    existing = [p for p in paths if p != "-" and os.path.exists(p)]
    if existing and not force:
        raise ValueError(f"Refusing to overwrite {existing[0]!r}{' and others' if len(existing) > 1 else ''}; "
                         "pass --force, or another -o folder.")
    if output != "-":
        os.makedirs(output, exist_ok=True)
    times, interrupted = [], False
    with contextlib.ExitStack() as stack:
        writer = (_RawWriter(stdout or sys.stdout.buffer, raw_format) if output == "-"
                  else _WavWriters(paths, rate, stack))
        try:
            for samples in blocks:
                start = time.perf_counter()
                # .cpu() inside the timing: on CUDA it waits for the block's work, which process() only queues
                sources = streamer.process(samples[None].to(torch.float32))[0].cpu()
                times.append(time.perf_counter() - start)
                writer.write(sources.numpy())
        except KeyboardInterrupt:
            interrupted = True
        if times:
            writer.write(streamer.flush()[0].cpu().numpy())
    times = np.array(times) if times else np.zeros(1)
    return dict(latency=int(streamer.latency), block=int(block), blocks=int(len(times)),
                median_ms=1e3 * float(np.median(times)), p99_ms=1e3 * float(np.percentile(times, 99)),
                real_time_factor=float(np.median(times) * rate / block), outputs=paths, interrupted=interrupted,
                sample_rate=rate, precision=streamer.precision)


def report(stats):
    """The summary line of a stream's statistics."""
    rate = stats["sample_rate"]
    in_int8 = " in int8" if stats["precision"] == "int8" else ""
    heard = stats["block"] + stats["latency"]  # a block's first sample waits for the block, then the model's lag
    return (f"{'Interrupted; flushed' if stats['interrupted'] else 'Streamed'} {stats['blocks']} blocks of "
            f"{1000 * stats['block'] / rate:g} ms{in_int8}; latency heard {1000 * heard / rate:g} ms ({heard} samples: "
            f"the {1000 * stats['block'] / rate:g} ms block plus the model's algorithmic latency of {stats['latency']} "
            f"samples, {1000 * stats['latency'] / rate:g} ms; compute time adds to it); per block: median "
            f"{stats['median_ms']:.2f} ms, "
            f"p99 {stats['p99_ms']:.2f} ms; real-time factor {stats['real_time_factor']:.3f}")
