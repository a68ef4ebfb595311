"""Folders written by the corpus generators: claimed by a marker file, never written over.

A generator claims an empty (or new) folder by writing ``<root>/<marker>`` with its settings and
``"complete": false``, and sets ``"complete": true`` once every file is written. Running it again
with the same settings finishes an interrupted corpus or does nothing; other settings, or a folder
holding files but no marker, are refused, so a generator never touches data it did not make.
"""
import json
import os

#: The splits of every corpus: training, validation (cross-validation) and test.
SPLITS = ("tr", "cv", "tt")


def claim_folder(root, marker, settings):
    """Claim ``root`` for a corpus made with ``settings``; True when that corpus is already complete.

    Raises:
        ValueError: ``root`` holds a corpus made with other settings, or files and no marker.
    """
    path = os.path.join(root, marker)
    if os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
        if existing.get("settings") != settings:
            raise ValueError(
                f"{root!r} holds a corpus made with other settings ({existing.get('settings')}); choose "
                "another folder, or delete that one to remake it."
            )
        return bool(existing.get("complete"))
    if os.path.isdir(root) and os.listdir(root):
        raise ValueError(f"{root!r} is not empty and holds no {marker}: refusing to write into it.")
    _write(path, settings, complete=False)
    return False


def mark_complete(root, marker, settings):
    """Record that the corpus claimed by :func:`claim_folder` is fully written."""
    _write(os.path.join(root, marker), settings, complete=True)


def _write(path, settings, complete):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump({"settings": settings, "complete": complete}, f, indent=2)
