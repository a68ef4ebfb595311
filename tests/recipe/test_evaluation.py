import csv
import json

import numpy as np
import pytest
import soundfile as sf
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
    with pytest.raises(ValueError, match="Unknown metrics \\['nisqa'\\]"):
        utterance_metrics(mix, sources, sources, RATE, metrics=("nisqa",))


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
    assert list(results["rows"]) == ["<metric>"]  # P = C: no rows of P outputs
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


@pytest.fixture
def experiment(tiny_dprnn, tmp_path):
    """An experiment folder with a tiny model's best_model.pth, and a test manifest of three mixtures."""
    rng = np.random.default_rng(3)
    entries = []
    for i, o in enumerate((0.2, 0.5, 0.9)):
        sources = (0.1 * two_talkers(rng, 2400, o)).astype("float32")
        paths = [str(tmp_path / f"utt{i}_{name}.wav") for name in ("mix", "s1", "s2")]
        for path, wav in zip(paths, (sources.sum(0), *sources)):
            sf.write(path, wav, RATE, subtype="FLOAT")
        entries.append({"id": f"utt{i}", "mix": paths[0], "sources": paths[1:], "samples": 2400})
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "tt.json").write_text(json.dumps(entries))
    (tmp_path / "exp").mkdir()
    model = tiny_dprnn(n_src=2).eval()
    torch.save(model.serialize(), tmp_path / "exp" / "best_model.pth")
    return tmp_path


def evaluate_step(root, *extra):
    from asteroid_deepmask.recipe.steps import main

    assert main(["evaluate", "--manifests", str(root / "manifests"), "--exp", str(root / "exp"), "--dataset", "tiny",
                 *map(str, extra)]) == 0


def test_the_step_says_what_it_scores_and_shows_progress(experiment, capsys, monkeypatch):
    from asteroid_deepmask.utils import progress

    monkeypatch.setattr(progress.time, "monotonic", iter(range(0, 1000, 20)).__next__)  # 20 s per utterance
    evaluate_step(experiment)
    out = capsys.readouterr().out
    assert "scoring 3 utterances of " in out and "tt.json (si_sdr, sdr)" in out
    assert [line for line in out.splitlines() if line.startswith("scored")] == [
        "scored 2 utterances in 40 s", "scored 3 utterances in 60 s"]


def test_an_exported_onnx_model_scores_like_the_torch_model(experiment):
    from asteroid_deepmask.deployment.export import export_model
    from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder

    exp = experiment / "exp"
    export_model(DeepMaskEncoderMaskerDecoder.from_pretrained(str(exp / "best_model.pth")), exp / "model.onnx")
    evaluate_step(experiment)
    evaluate_step(experiment, "--model", exp / "model.onnx", "--out", exp / "onnx")
    torch_results = json.loads((exp / "results.json").read_text())
    onnx_results = json.loads((exp / "onnx" / "results.json").read_text())
    assert torch_results["separator"] == {"model": str(exp / "best_model.pth"), "backend": "torch", "precision": "32"}
    assert onnx_results["separator"] == {"model": str(exp / "model.onnx"), "backend": "onnxruntime", "precision": "32"}
    for key in ("si_sdri", "sdri"):
        assert abs(onnx_results["summary"][key]["mean"] - torch_results["summary"][key]["mean"]) < 0.01
    torch_rows = list(csv.DictReader(open(exp / "metrics.csv")))
    onnx_rows = list(csv.DictReader(open(exp / "onnx" / "metrics.csv")))
    for t, o in zip(torch_rows, onnx_rows):
        assert abs(float(t["si_sdri"]) - float(o["si_sdri"])) < 0.01
    assert onnx_results["complexity"] == torch_results["complexity"]  # counted from the export's metadata
    assert "Scored: " in (exp / "onnx" / "results.md").read_text() and "onnxruntime" in (exp / "onnx" / "results.md").read_text()


def test_bf16_is_scored_and_recorded(experiment):
    exp = experiment / "exp"
    evaluate_step(experiment)
    evaluate_step(experiment, "--precision", "bf16", "--out", exp / "bf16")
    full = json.loads((exp / "results.json").read_text())
    half = json.loads((exp / "bf16" / "results.json").read_text())
    assert half["separator"]["precision"] == "bf16" and half["separator"]["backend"] == "torch"
    rows = [list(csv.DictReader(open(folder / "metrics.csv"))) for folder in (exp, exp / "bf16")]
    assert [r["si_sdri"] for r in rows[0]] != [r["si_sdri"] for r in rows[1]]  # autocast really ran in bfloat16
    assert abs(half["summary"]["si_sdri"]["mean"] - full["summary"]["si_sdri"]["mean"]) < 0.5
