"""Reading one channel of an audio file at a model's rate: the one reader of ``separate``, ``stream``, the
recipes' unlabeled recordings and reference-free evaluation, and ``model.count_sources(path)``."""
import numpy as np
import soundfile as sf
import torch


def probe(path, channel=None, downmix=False):
    """Check that ``path`` is readable audio from which one channel can be taken; returns
    ``(frames, sample_rate)`` of the file.

    Multi-channel files need ``channel`` (0-based) or ``downmix``; a mono file ignores both.

    Raises:
        ValueError: unreadable file, or several channels and no way to pick one.
    """
    try:
        info = sf.info(path)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise ValueError(f"Cannot read {path!r} as audio: {str(err).rstrip('.')}.") from err
    if info.channels > 1 and not downmix:
        if channel is None:
            raise ValueError(
                f"{path!r} has {info.channels} channels; the model separates mono audio: pass "
                "--channel N to pick one (0-based) or --downmix to average them."
            )
        if not 0 <= channel < info.channels:
            raise ValueError(f"--channel {channel} does not exist in {path!r}, which has {info.channels} channels (0-based).")
    return info.frames, info.samplerate


def read_mono(path, sample_rate, channel=None, downmix=False):
    """Read ``path`` as a mono float32 tensor at ``sample_rate`` (resampled if needed); see :func:`probe`."""
    probe(path, channel, downmix)
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    if data.shape[1] > 1:
        data = data.mean(axis=1, keepdims=True) if downmix else data[:, channel : channel + 1]
    wav = torch.from_numpy(np.ascontiguousarray(data[:, 0]))
    if rate != sample_rate:
        import torchaudio.functional as AF

        wav = AF.resample(wav, int(rate), int(sample_rate))
    return wav
