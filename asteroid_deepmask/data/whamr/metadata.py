"""The metadata WHAMR! is made from: its mixture lists, its rooms, and WHAM!'s noise levels.

The official ``whamr_scripts`` hold, for each split, ``mix_2_spk_filenames_<split>.csv``
(``output_filename, s1_path, s2_path``: the WSJ0 utterances of each mixture) and
``reverb_params_<split>.csv`` (``utterance_id``, the room size ``room_{x,y,z}``, the
microphones ``mic{L,R}_{x,y}, mic_z``, the speakers ``s{1,2}_{x,y,z}`` and ``T60``). The WHAM!
noise corpus holds ``metadata/scaling_<split>.npz``: the mixture order (``utterance_id``), where
the speech starts in the noise (``speech_start_sample_16k``) and the gains of the speakers and the
noise for each rate and length (``scaling_{wsjmix,wham_speech,wham_noise}_{8k,16k}_{min,max}``).

The npz files are read without unpickling: an object array (strings) is rebuilt by an unpickler
that accepts numpy arrays of built-in values and nothing else.
"""
import csv
import io
import os
import pickle
import zipfile

import numpy as np

from ..corpus_folder import SPLITS

MIX_LIST = "mix_2_spk_filenames_{}.csv"
ROOMS = "reverb_params_{}.csv"
SCALING = os.path.join("metadata", "scaling_{}.npz")
#: The columns of a room row, in the order :func:`room_geometry` reads them.
ROOM_COLUMNS = ("room_x", "room_y", "room_z", "micL_x", "micL_y", "micR_x", "micR_y", "mic_z",
                "s1_x", "s1_y", "s1_z", "s2_x", "s2_y", "s2_z", "T60")


def find_metadata(scripts, splits=SPLITS):
    """``{split: (mix list path, room path)}`` under ``scripts`` (the unpacked whamr_scripts, searched recursively).

    Raises:
        FileNotFoundError: ``scripts`` is not a folder or lacks a file, with the fix.
    """
    if not os.path.isdir(scripts):
        raise FileNotFoundError(
            f"--scripts {scripts!r} is not a folder: pass the unpacked whamr_scripts (http://wham.whisper.ai), "
            "whose data/ holds the WHAMR! metadata, or leave it empty to download them."
        )
    wanted = {pattern.format(s) for pattern in (MIX_LIST, ROOMS) for s in splits}
    found = {}
    for here, _, files in os.walk(scripts):
        for name in wanted.intersection(files):
            found.setdefault(name, os.path.join(here, name))
    missing = sorted(wanted - set(found))
    if missing:
        raise FileNotFoundError(
            f"{scripts!r} lacks the WHAMR! metadata {', '.join(missing)}: pass the unpacked whamr_scripts folder "
            "(its data/ holds them)."
        )
    return {s: (found[MIX_LIST.format(s)], found[ROOMS.format(s)]) for s in splits}


def read_rows(path, key):
    """``{row[key]: row}`` of a metadata CSV file (values as strings)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and key not in rows[0]:
        raise ValueError(f"{path} has no column {key!r} (columns: {sorted(rows[0])}): is it a WHAMR! metadata file?")
    return {row[key]: row for row in rows}


def room_geometry(row):
    """``(room size, [left mic, right mic], [speaker 1, speaker 2], T60)`` of a room row, in metres and seconds.

    Example:
        >>> row = dict(zip(ROOM_COLUMNS, map(str, range(1, 16))))
        >>> room_geometry(row)
        ((1.0, 2.0, 3.0), [(4.0, 5.0, 8.0), (6.0, 7.0, 8.0)], [(9.0, 10.0, 11.0), (12.0, 13.0, 14.0)], 15.0)
    """
    try:
        v = dict(zip(ROOM_COLUMNS, (float(row[c]) for c in ROOM_COLUMNS)))
    except (KeyError, ValueError) as err:
        raise ValueError(f"Room row {row.get('utterance_id')!r} lacks or garbles {err}: columns {ROOM_COLUMNS}.") from None
    room = (v["room_x"], v["room_y"], v["room_z"])
    mics = [(v["micL_x"], v["micL_y"], v["mic_z"]), (v["micR_x"], v["micR_y"], v["mic_z"])]
    speakers = [tuple(v[f"s{i}_{a}"] for a in "xyz") for i in (1, 2)]
    return room, mics, speakers, v["T60"]


def scaling_path(wham_noise, split):
    """Path of WHAM!'s ``scaling_<split>.npz``; FileNotFoundError naming ``--wham-noise`` when missing."""
    path = os.path.join(wham_noise, SCALING.format(split))
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} is missing: --wham-noise must be the unpacked WHAM! noise corpus, whose metadata/ holds "
            "the noise levels WHAMR! uses (wham_noise.zip from http://wham.whisper.ai)."
        )
    return path


def load_npz(path):
    """``{name: array}`` of an ``.npz`` file; object arrays of built-in values are rebuilt, nothing else is unpickled."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as f:
                raw = io.BytesIO(f.read())
            version = np.lib.format.read_magic(raw)
            shape, fortran, dtype = _read_header(raw, version)
            if dtype.hasobject:
                array = _ArrayUnpickler(raw).load()
            else:
                array = np.frombuffer(raw.read(), dtype=dtype).reshape(shape, order="F" if fortran else "C")
            arrays[member[: -len(".npy")] if member.endswith(".npy") else member] = array
    return arrays


def _read_header(raw, version):
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"An .npy member of format {version} is not supported: resave the file with numpy.")
    return readers[version](raw)


def _reconstruct(subtype, shape, dtype):
    return np.ndarray.__new__(subtype, shape, dtype)


def _scalar(dtype, data):
    if dtype.hasobject:
        raise pickle.UnpicklingError("An object scalar in an .npz file: only numpy arrays are read.")
    return np.frombuffer(data, dtype)[0]


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles a numpy object array (how numpy stores arrays of strings) and refuses every other class."""

    _ALLOWED = {"_reconstruct": _reconstruct, "scalar": _scalar, "ndarray": np.ndarray, "dtype": np.dtype}

    def find_class(self, module, name):
        if module not in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray") or name not in self._ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} in an .npz file: only numpy arrays are read.")
        return self._ALLOWED[name]
