import csv
import json

import numpy as np
import pytest
import torch

from asteroid_deepmask.recipe.evaluation import by_overlap, evaluate, overlap_ratio, summarise, utterance_metrics
from asteroid_deepmask.recipe.publishing import read_experiment

RATE = 8000


def two_talkers(rng, n=4000, overlap=0.5):
    """Two noise 'talkers' whose active spans overlap by ``overlap`` of the active time."""
    s = np.zeros((2, n))
    span = int(n * (1 + overlap) / 2)  # overlap = (2 * span - n) / n
    s[0, :span] = rng.standard_normal(span)
    s[1, n - span:] = rng.standard_normal(span)
    return s


def test_overlap_ratio_follows_the_construction():
    rng = np.random.default_rng(0)
    for target in (0.0, 0.3, 0.6, 1.0):
        assert overlap_ratio(two_talkers(rng, 8000, target), RATE) == pytest.approx(target, abs=0.03)
    assert overlap_ratio(np.zeros((2, 800)), RATE) == 0.0


def test_perfect_and_useless_estimates():
    rng = np.random.default_rng(1)
    sources = two_talkers(rng)
    mix = sources.sum(0)
    perfect = utterance_metrics(mix, sources, sources[::-1] + 1e-3 * rng.standard_normal(sources.shape), RATE)
    assert perfect["si_sdr"] > 40 and perfect["si_sdri"] > 30  # the permutation is found
    useless = utterance_metrics(mix, sources, np.stack([mix, mix]) / 2, RATE)
    assert abs(useless["si_sdri"]) < 1e-6 and abs(useless["sdri"]) < 1e-3
    with pytest.raises(ValueError, match="Unknown metrics \\['pesq'\\]"):
        utterance_metrics(mix, sources, sources, RATE, metrics=("pesq",))


def test_summary_and_overlap_bins():
    rows = [{"si_sdri": v, "overlap_ratio": o} for v, o in ((10, 0.1), (12, 0.2), (5, 0.9), (7, 1.0))]
    s = summarise(rows, ["si_sdri"])["si_sdri"]
    assert s["mean"] == 8.5 and s["n"] == 4
    assert s["ci95"] == pytest.approx(3.182446 * np.std([10, 12, 5, 7], ddof=1) / 2)  # Student t, 3 dof
    assert by_overlap(rows) == [(0.0, 0.25, 2, 11.0), (0.75, 1.0, 2, 6.0)]


def test_evaluate_writes_what_publish_reads(tiny_dprnn, tmp_path):
    rng = np.random.default_rng(2)
    model = tiny_dprnn(n_src=2)
    examples = []
    for i, o in enumerate((0.2, 0.5, 0.9)):
        sources = 0.1 * two_talkers(rng, 2400, o)
        examples.append((f"utt{i}", sources.sum(0), sources))
    results = evaluate(model, examples, tmp_path, dataset="mini2mix")
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["id"] for r in rows] == ["utt0", "utt1", "utt2"]
    means = {k: np.mean([float(r[k]) for r in rows]) for k in ("si_sdri", "sdri")}
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["metrics"] == {k: round(v, 3) for k, v in means.items()} == results["metrics"]
    assert "| si_sdri |" in (tmp_path / "results.md").read_text()
    torch.save(model.serialize(), tmp_path / "best_model.pth")
    _, card = read_experiment(tmp_path)
    assert card["results"]["metrics"] == saved["metrics"]
    with pytest.raises(ValueError, match="test set is empty"):
        evaluate(model, [], tmp_path / "empty", dataset="mini2mix")
