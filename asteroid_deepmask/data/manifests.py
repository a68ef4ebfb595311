"""Manifests of a corpus folder: ``{tr,cv,tt}.json`` lists of utterances, in the layout an
experiment asks for.

An experiment file's ``data`` section says where its audio lies in a corpus folder
(:func:`corpus_layout`); :func:`write_manifests` lists it and records that layout in
``info.json``, which :func:`check_manifests` compares before training on them.
"""
import json
import os

import soundfile as sf

from .corpus_folder import SPLITS
from .librimix import split_folders, task_layout
from .whamr import layout

INFO_FILE = "info.json"


def manifest_path(manifests, split):
    """The manifest of ``split`` (``tr``, ``cv`` or ``tt``) in the folder ``manifests``."""
    return os.path.join(manifests, f"{split}.json")


def corpus_layout(data):
    """Where an experiment's audio lies in its corpus: ``{"folder", "mixture", "sources"}``.

    ``folder`` is ``wav8k/min``-like; ``mixture`` the mixtures' folder and ``sources`` the sources'
    folders (``{i}`` from 1), from the ``data`` section of an experiment file. A LibriMix layout
    also has ``splits`` (``{"tr": "train-360", "cv": "dev", "tt": "test"}``-like) and ``speakers``
    (``n_src`` counts the targets: 1 for its enhancement tasks).
    """
    rate, mode, n_src = int(data.get("sample_rate", 8000)), data.get("mode", "min"), int(data.get("n_src", 2))
    mixture, sources, extra = "mix", "s{i}", {}
    if data.get("dataset") == "whamr":
        mixture, sources = layout(data.get("mixture", "noisy_reverberant"), data.get("targets", "reverberant"))
    elif data.get("dataset") == "librimix":
        extra = {"speakers": n_src, "splits": split_folders(data.get("train_set", "train-360"))}
        mixture, sources, n_src = task_layout(data.get("task", "sep_clean"), n_src)
    return {"folder": f"wav{rate // 1000}k/{mode}", "mixture": mixture, "sources": sources,
            "n_src": n_src, "sample_rate": rate, **extra}


def write_manifests(corpus, out_dir, data, force=False):
    """``{tr,cv,tt}.json`` (``[{"id", "mix", "sources", "samples"}]``) from a corpus folder.

    ``data`` is an experiment file's ``data`` section (see :func:`corpus_layout`); ``info.json``
    records the layout, and :func:`check_manifests` refuses manifests made for another one.
    """
    info = corpus_layout(data)
    os.makedirs(out_dir, exist_ok=True)
    info_path = os.path.join(out_dir, INFO_FILE)
    if os.path.exists(info_path) and not force:
        with open(info_path) as f:
            made = json.load(f)
        if made != info:
            raise ValueError(f"{out_dir!r} holds manifests of another layout ({made}); use another folder for {info}.")
    for split in SPLITS:
        path = manifest_path(out_dir, split)
        if os.path.exists(path) and not force:
            continue
        splits = info.get("splits", {s: s for s in SPLITS})
        split_dir = os.path.join(corpus, info["folder"], splits[split])
        mix_dir = os.path.join(split_dir, info["mixture"])
        if not os.path.isdir(mix_dir):
            raise FileNotFoundError(
                f"No {mix_dir}: the corpus folder must hold {info['folder']}/{{{','.join(splits.values())}}}/"
                f"{info['mixture']} (point the recipe at the folder that holds wav8k/, or run its stage 0)."
            )
        _check_source_folders(split_dir, info)
        with open(path, "w") as f:
            json.dump(_entries(split_dir, info["mixture"], info["sources"], info["n_src"]), f, indent=1)
    with open(info_path, "w") as f:
        json.dump(info, f, indent=1)


def _entries(split_dir, mixture, sources, n_src):
    """The manifest entries of the mixtures in ``split_dir/mixture`` and their sources (``sources``, a folder
    name with ``{i}``, numbered from 1)."""
    mix_dir, entries = os.path.join(split_dir, mixture), []
    for name in sorted(n for n in os.listdir(mix_dir) if n.endswith(".wav")):
        paths = [os.path.join(split_dir, sources.format(i=i + 1), name) for i in range(n_src)]
        missing = [s for s in paths if not os.path.isfile(s)]
        if missing:
            raise FileNotFoundError(f"{name} in {mix_dir} lacks its sources {missing}.")
        mix = os.path.join(mix_dir, name)
        entries.append({"id": os.path.splitext(name)[0], "mix": os.path.abspath(mix),
                        "sources": [os.path.abspath(s) for s in paths], "samples": sf.info(mix).frames})
    if not entries:
        raise FileNotFoundError(f"{mix_dir} holds no .wav files.")
    return entries


#: The mixture folders a labelled test folder may hold, in the order they are looked for (wsj0-2mix and
#: mini2mix's, then LibriMix's).
TEST_MIXTURES = ("mix", "mix_clean", "mix_both", "mix_single")


def write_test_manifest(split_dir, out_dir, force=False):
    """``out_dir/tt.json`` of a labelled test folder: ``split_dir`` holds a mixture folder (the first of
    :data:`TEST_MIXTURES`) and the sources' folders ``s1``, ``s2``, ... with files of the same names (a
    wsj0-2mix / mini2mix ``wav8k/min/tt`` or a LibriMix ``wav8k/min/test``). Returns the manifest's path.

    ``info.json`` records the folder read; a manifest made from another folder is refused unless ``force``.
    """
    mixture = next((m for m in TEST_MIXTURES if os.path.isdir(os.path.join(split_dir, m))), None)
    if mixture is None or not os.path.isdir(os.path.join(split_dir, "s1")):
        raise FileNotFoundError(f"--test-corpus {split_dir!r} must hold a mixture folder (one of "
                                f"{', '.join(TEST_MIXTURES)}) and s1, s2, ...: give a split folder such as "
                                "data/mini2mix/wav8k/min/tt or Libri2Mix/wav8k/min/test.")
    n_src = 1
    while os.path.isdir(os.path.join(split_dir, f"s{n_src + 1}")):
        n_src += 1
    info = {"test_folder": os.path.abspath(split_dir), "mixture": mixture, "n_src": n_src}
    path, info_path = manifest_path(out_dir, "tt"), os.path.join(out_dir, INFO_FILE)
    if os.path.isfile(info_path) and not force:
        with open(info_path) as f:
            made = json.load(f)
        if made != info:
            raise ValueError(f"{out_dir!r} holds the manifest of {made.get('test_folder', 'another corpus')}; use "
                             f"another folder for {split_dir} (or --force true to replace it).")
        if os.path.isfile(path):
            return path
    elif os.path.exists(path) and not force:
        raise ValueError(f"{path} exists and was not made from a test folder: refusing to overwrite it; use "
                         "another folder.")
    os.makedirs(out_dir, exist_ok=True)
    with open(path, "w") as f:
        json.dump(_entries(split_dir, mixture, "s{i}", n_src), f, indent=1)
    with open(info_path, "w") as f:
        json.dump(info, f, indent=1)
    return path


def _check_source_folders(split_dir, info):
    """Raise a ValueError when ``split_dir`` holds more sources per mixture than the layout ``info`` lists
    (wsj0-3mix read with ``n_src: 2`` would train on 2 of its 3 sources)."""
    # LibriMix's enhancement targets are not numbered: its speakers are still s1, s2, ...
    pattern, n_src = ("s{i}", info["speakers"]) if "speakers" in info else (info["sources"], info["n_src"])
    if "{i}" not in pattern or not os.path.isdir(os.path.join(split_dir, pattern.format(i=n_src + 1))):
        return
    found = n_src + 1
    while os.path.isdir(os.path.join(split_dir, pattern.format(i=found + 1))):
        found += 1
    raise ValueError(
        f"{split_dir} holds {found} sources per mixture ({', '.join(pattern.format(i=i + 1) for i in range(found))}) "
        f"but the experiment has data.n_src={n_src}: set data.n_src and model.n_src to {found} (the recipe's "
        f"--n-src {found}), or point at a {n_src}-source corpus."
    )


def _check_source_counts(manifest, n_src):
    """Raise a ValueError when an entry of the manifest file ``manifest`` has not ``n_src`` sources."""
    with open(manifest) as f:
        entries = json.load(f)
    for entry in entries:
        if len(entry["sources"]) != n_src:
            raise ValueError(
                f"{manifest}: {entry['id']} has {len(entry['sources'])} sources but the experiment separates "
                f"{n_src} (data.n_src): set data.n_src and model.n_src to {len(entry['sources'])}, or remake the "
                "manifests (stage 1 with --force true)."
            )


def check_manifests(manifests, data, unsupervised=False):
    """Raise a ValueError when ``manifests`` were made for another layout than ``data`` asks for, or
    list another number of sources per mixture.

    Manifests of unlabeled audio (:mod:`.unlabeled`) have no layout: they need ``unsupervised``
    training (``training.unsupervised_mixit``) at the experiment's ``data.sample_rate``.
    """
    info_path = os.path.join(manifests, INFO_FILE)
    if not os.path.isfile(info_path):
        raise FileNotFoundError(f"No {info_path}: make the manifests first (the recipe's stage 1).")
    with open(info_path) as f:
        made = json.load(f)
    if made.get("unlabeled"):
        if not unsupervised:
            raise ValueError(f"{manifests!r} lists unlabeled audio (no sources): train on it with "
                             "training.unsupervised_mixit=true, or give the manifests of a labelled corpus.")
        if made["sample_rate"] != int(data["sample_rate"]):
            raise ValueError(f"{manifests!r} holds segments at {made['sample_rate']} Hz but the experiment's "
                             f"data.sample_rate is {data['sample_rate']}: remake them (stage 0) at that rate, or "
                             "use another --manifests folder.")
        return
    wanted = corpus_layout(data)
    if made != wanted:
        raise ValueError(
            f"The manifests in {manifests!r} list {made}, but the experiment wants {wanted}: remake them "
            "(stage 1 with --force true) or use another --manifests folder."
        )
    for path in (manifest_path(manifests, split) for split in SPLITS):
        if os.path.isfile(path):  # a missing one is named by whatever reads it
            _check_source_counts(path, wanted["n_src"])
