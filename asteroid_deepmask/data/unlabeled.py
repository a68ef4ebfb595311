"""Manifests of a folder of unlabeled recordings, for unsupervised (MixIT) training.

The folder is searched recursively for every file whose extension names a format soundfile
reads (:data:`AUDIO_FORMATS`). Each recording is read as ``separate`` reads its inputs (one
channel, or the average of the channels; resampled to the experiment's rate:
:func:`~asteroid_deepmask.utils.audio_files.read_mono`) and cut into segments of
``segment`` seconds, the last kept when at least half a segment long. Segments more than
``silence_db`` below the loudest segment of their recording, and digital silence, are dropped.
A share of the recordings (not of the segments: the same voices and rooms would otherwise be in
both) is held out for validation.

The manifest folder (``--out``) holds:

* ``segments/<recording number>/<segment number>.wav``: mono float wavs at the experiment's rate;
* ``tr.json`` and ``cv.json``: ``[{"id", "mix", "samples", "recording"}]`` (``mix``: a segment's
  absolute path; ``recording``: the file it was cut from, relative to the audio folder). There is
  no ``"sources"`` key: the training and evaluation steps read ``mix`` only;
* ``info.json``: ``{"unlabeled": true, "sample_rate", "segment", ...}``, which training checks;
* ``unlabeled.json``: the settings that made the folder (:mod:`.corpus_folder`), so a second run
  with the same settings does nothing and a folder made otherwise is never written into.

A file that cannot be read is named in the log and skipped; the stage fails only when no
recording can be used, or when too little is left to train.
"""
import json
import os

import numpy as np
import soundfile as sf

from ..utils.audio_files import read_mono
from .corpus_folder import claim_folder, mark_complete
from .manifests import INFO_FILE, manifest_path

MARKER = "unlabeled.json"
SEGMENTS = "segments"
#: The splits of an unlabeled folder: training and validation (a test set has references: ``--test-corpus``).
UNLABELED_SPLITS = ("tr", "cv")
#: File extensions (upper case) of the formats soundfile reads, and the usual other names of some.
AUDIO_FORMATS = frozenset(sf.available_formats()) - {"RAW"} | {"AIF", "OGA", "OPUS"}
#: Segments a training set needs at least: a mixture of mixtures sums two of them.
MIN_TRAIN_SEGMENTS = 2


def find_audio(folder):
    """The audio files under ``folder`` (searched recursively), sorted; hidden files and folders are left out.

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
        ValueError: it holds no file with an audio extension.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"--audio {folder!r} is not a folder: give the folder that holds your recordings.")
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in files
                  if not f.startswith(".") and os.path.splitext(f)[1][1:].upper() in AUDIO_FORMATS]
    if not found:
        raise ValueError(f"{folder!r} holds no audio file (searched recursively for "
                         f"{', '.join(sorted(e.lower() for e in AUDIO_FORMATS))}).")
    return sorted(found)


def cut_segments(wav, segment, silence_db):
    """``(start, length)`` of the segments of ``wav`` (``[time]``) worth training on.

    Segments of ``segment`` samples follow each other; the last is kept when at least half as long.
    Those whose RMS is more than ``-silence_db`` dB below the loudest one's, or zero, are dropped.

    Example:
        >>> wav = np.concatenate([np.ones(100), np.zeros(100), 0.5 * np.ones(60), np.ones(20)])
        >>> cut_segments(wav, 100, silence_db=-40.0)
        [(0, 100), (200, 80)]
    """
    spans = [(start, min(segment, len(wav) - start)) for start in range(0, len(wav), segment)]
    spans = [(s, n) for s, n in spans if 2 * n >= segment]
    rms = np.array([np.sqrt(np.mean(np.square(wav[s:s + n], dtype=np.float64))) for s, n in spans])
    if not len(rms) or rms.max() == 0:
        return []
    floor = rms.max() * 10 ** (silence_db / 20)
    return [span for span, level in zip(spans, rms) if level > 0 and level >= floor]


def split_recordings(recordings, valid_share, seed):
    """``(train, valid)``: the recordings (any items) shuffled with ``seed`` and split, at least one in each.

    Example:
        >>> train, valid = split_recordings(list("abcdefghij"), 0.2, seed=0)
        >>> len(train), len(valid), sorted(train + valid) == list("abcdefghij")
        (8, 2, True)
    """
    if len(recordings) < 2:
        raise ValueError(f"Only {len(recordings)} usable recording: validation is held out by recording, so "
                         "at least 2 are needed; add recordings (or cut a long one into several files).")
    order = np.random.default_rng(seed).permutation(len(recordings))
    n_valid = min(len(recordings) - 1, max(1, round(valid_share * len(recordings))))
    return [recordings[i] for i in order[n_valid:]], [recordings[i] for i in order[:n_valid]]


def _read(path, sample_rate, channel):
    """The recording as float32 numpy ``[time]``; ValueError naming the problem when it cannot be used."""
    try:
        wav = read_mono(path, sample_rate, channel=channel, downmix=channel is None).numpy()
    except (RuntimeError, sf.LibsndfileError) as err:  # decodes its header, not its samples
        raise ValueError(f"cannot be decoded ({str(err).rstrip('.')})") from err
    if not np.isfinite(wav).all():
        raise ValueError("holds non-finite samples")
    return wav


def write_unlabeled_manifests(audio, out_dir, sample_rate, segment, valid_share=0.1, channel=None,
                              silence_db=-40.0, seed=0, log=print):
    """Cut the recordings under ``audio`` into segments and write the manifests into ``out_dir``
    (see the module docstring); returns the summary recorded in ``info.json``.

    Args:
        audio (str): folder of recordings, searched recursively.
        out_dir (str): new (or empty) folder, or one this function made with the same settings.
        sample_rate (int): the experiment's rate (``data.sample_rate``).
        segment (float): seconds per segment (``data.segment``).
        valid_share (float): share of the recordings held out for validation, ``0 < share < 1``.
        channel (int, optional): channel of multi-channel files (0-based); None averages the channels.
        silence_db (float): segments this far below their recording's loudest one (dB, < 0) are dropped.
        seed (int): seed of the split.
        log (callable): where the skipped files and the summary are reported.

    Raises:
        FileNotFoundError, ValueError: no folder, no usable recording, too little audio to train, a bad
            option, or ``out_dir`` holds files this function did not make.

    Example::

        write_unlabeled_manifests("/data/my_meetings", "data/my_meetings/manifests", 8000, 4.0)
        # tr.json / cv.json list the segments; training reads them with training.unsupervised_mixit: true
    """
    if not 0 < valid_share < 1:
        raise ValueError(f"--valid-share {valid_share}: give the share of recordings held out, between 0 and 1 "
                         "(e.g. 0.1).")
    if silence_db >= 0:
        raise ValueError(f"--silence-db {silence_db}: give a level below the loudest segment, < 0 (e.g. -40).")
    files = find_audio(audio)
    settings = dict(audio=os.path.abspath(audio), sample_rate=int(sample_rate), segment=float(segment),
                    valid_share=valid_share, channel=channel, silence_db=silence_db, seed=seed)
    if claim_folder(out_dir, MARKER, settings):
        log(f"{out_dir}: manifests of {audio} already made with these settings; nothing to do")
        with open(os.path.join(out_dir, INFO_FILE)) as f:
            return json.load(f)
    length = int(round(segment * sample_rate))
    recordings, skipped, too_short = [], [], 0
    for number, path in enumerate(files):
        try:
            wav = _read(path, sample_rate, channel)
        except ValueError as err:
            skipped.append(path)
            log(f"skipped {path}: {str(err).rstrip('.')}")
            continue
        spans = cut_segments(wav, length, silence_db)
        too_short += not spans
        folder = os.path.join(out_dir, SEGMENTS, f"{number:05d}")
        os.makedirs(folder, exist_ok=True)
        entries = []
        for index, (start, n) in enumerate(spans):
            seg_path = os.path.abspath(os.path.join(folder, f"{index:05d}.wav"))
            sf.write(seg_path, wav[start:start + n], sample_rate, subtype="FLOAT")
            entries.append({"id": f"{number:05d}_{index:05d}", "mix": seg_path, "samples": n,
                            "recording": os.path.relpath(path, audio)})
        if entries:
            recordings.append(entries)
    if skipped:
        log(f"skipped {len(skipped)} of {len(files)} files that could not be read (named above)")
    if not recordings:
        raise ValueError(f"No usable audio in {audio!r}: {len(skipped)} unreadable files, {too_short} recordings "
                         f"shorter than half a segment ({segment / 2:g} s) or silent.")
    train, valid = split_recordings(recordings, valid_share, seed)
    splits = dict(zip(UNLABELED_SPLITS, ([e for r in train for e in r], [e for r in valid for e in r])))
    if len(splits["tr"]) < MIN_TRAIN_SEGMENTS:
        raise ValueError(f"{audio!r} is too short to train: {len(splits['tr'])} training segment of {segment:g} s "
                         f"after holding out validation recordings; give at least {MIN_TRAIN_SEGMENTS} "
                         f"({MIN_TRAIN_SEGMENTS * segment:g} s of sound in the training recordings).")
    for split, entries in splits.items():
        with open(manifest_path(out_dir, split), "w") as f:
            json.dump(entries, f, indent=1)
    info = {"unlabeled": True, "sample_rate": int(sample_rate), "segment": float(segment),
            "recordings": {"tr": len(train), "cv": len(valid)}, "segments": {k: len(v) for k, v in splits.items()},
            "skipped_files": len(skipped), "silent_or_short_recordings": too_short}
    with open(os.path.join(out_dir, INFO_FILE), "w") as f:
        json.dump(info, f, indent=1)
    mark_complete(out_dir, MARKER, settings)
    log(f"{out_dir}: {info['segments']['tr']} training segments from {len(train)} recordings, "
        f"{info['segments']['cv']} validation segments from {len(valid)} held-out recordings, "
        f"{len(skipped)} files skipped")
    return info
