"""Manifests: a corpus or a manifest with more sources per mixture than the experiment's n_src is refused,
naming both numbers, instead of training on some of its sources."""
import json

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask.data import check_manifests, corpus_layout, write_manifests

DATA = {"dataset": "wsj0-2mix", "sample_rate": 8000, "mode": "min", "n_src": 2}


def _corpus(root, n_sources):
    """A wsj0mix-like folder: one mixture per split, with ``n_sources`` source folders."""
    for split in ("tr", "cv", "tt"):
        for folder in ("mix", *(f"s{i + 1}" for i in range(n_sources))):
            (root / "wav8k" / "min" / split / folder).mkdir(parents=True)
            sf.write(root / "wav8k" / "min" / split / folder / "a.wav", np.zeros(800, "float32"), 8000)
    return root


def test_a_corpus_of_three_sources_with_n_src_2_is_refused_before_any_manifest(tmp_path):
    corpus = _corpus(tmp_path / "wsj0-3mix", 3)
    with pytest.raises(ValueError, match=r"holds 3 sources per mixture \(s1, s2, s3\).*data.n_src=2.*--n-src 3"):
        write_manifests(corpus, tmp_path / "manifests", DATA)
    assert not list((tmp_path / "manifests").glob("*.json"))
    write_manifests(corpus, tmp_path / "manifests", {**DATA, "n_src": 3})
    entry = json.loads((tmp_path / "manifests" / "tr.json").read_text())[0]
    assert [s.split("/")[-2] for s in entry["sources"]] == ["s1", "s2", "s3"]


def test_a_manifest_whose_entries_have_three_sources_is_refused_for_n_src_2(tmp_path):
    corpus = _corpus(tmp_path / "corpus", 2)
    write_manifests(corpus, tmp_path, DATA)
    check_manifests(tmp_path, DATA)
    entries = json.loads((tmp_path / "cv.json").read_text())
    entries[0]["sources"].append(entries[0]["sources"][0])  # written by hand, or by another tool
    (tmp_path / "cv.json").write_text(json.dumps(entries))
    assert json.loads((tmp_path / "info.json").read_text()) == corpus_layout(DATA)  # the layout alone agrees
    with pytest.raises(ValueError, match=r"cv.json: a has 3 sources but the experiment separates 2"):
        check_manifests(tmp_path, DATA)
