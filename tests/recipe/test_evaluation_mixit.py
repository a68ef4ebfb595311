"""Evaluation of overseparated (MixIT) models: P-output rows, PESQ / STOI / DNSMOS, and scores without references."""
import json

import numpy as np
import pytest
import torch

from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder
from asteroid_deepmask.recipe import main as recipe
from asteroid_deepmask.recipe.evaluation import evaluate, utterance_metrics
from asteroid_deepmask.recipe.reference_free import evaluate_reference_free

RATE = 8000


def split_outputs(sources):
    """P = 4 outputs of two sources: source 1 cut in two halves (outputs 0 and 2), source 2 whole (output 3),
    and output 1 nearly silent; every output carries noise 60 dB below the sources."""
    s1, s2 = sources
    half = torch.arange(s1.shape[-1]) < s1.shape[-1] // 2
    noise = 1e-3 * sources.std() * torch.randn(4, s1.shape[-1], generator=torch.Generator().manual_seed(0))
    return torch.stack([s1 * half, torch.zeros_like(s1), s1 * ~half, s2]) + noise


@pytest.fixture
def stub_outputs(monkeypatch):
    """The P outputs of every package model replaced by ``outputs[mixture]`` (registered by the test)."""
    outputs = {}

    def forward_outputs(self, wav):
        batch = wav.reshape(-1, wav.shape[-1])
        return torch.stack([outputs[tuple(x[:8].tolist())] for x in batch]).to(wav.dtype)

    monkeypatch.setattr(DeepMaskEncoderMaskerDecoder, "forward_outputs", forward_outputs)
    return lambda mix, out: outputs.__setitem__(tuple(torch.as_tensor(mix, dtype=torch.float32)[:8].tolist()), out)


def test_overseparated_rows_best_assignment_and_loudest(tiny_dprnn, voices, stub_outputs, tmp_path):
    sources = voices[:2]
    stub_outputs(sources.sum(0), split_outputs(sources))
    results = evaluate(tiny_dprnn(n_outputs=4), [("utt0", sources.sum(0).numpy(), sources.numpy())], tmp_path, "tiny",
                       metrics=("si_sdr",))
    m = results["metrics"]
    # the best assignment puts both halves back together; the two loudest are source 2 and one half of source 1
    assert m["si_sdri_best_assignment"] > 40
    assert m["si_sdri_best_assignment"] - m["si_sdri_loudest"] > 20
    assert set(results["rows"]) == {"<metric>", "<metric>_best_assignment", "<metric>_loudest"}
    assert "best assignment" in results["rows"]["<metric>_best_assignment"]
    table = (tmp_path / "results.md").read_text()
    assert "| si_sdri_loudest |" in table and "`<metric>_loudest` rows: the model's 4 outputs: its C most energetic" in table


def test_dnsmos_on_the_outputs_a_user_without_references_gets(tiny_dprnn, voices, stub_outputs, tmp_path,
                                                              monkeypatch):
    from asteroid_deepmask.recipe import evaluation

    calls = []

    def fake_dnsmos(wav, sample_rate):  # the real one takes seconds a call: count the calls instead
        calls.append(np.asarray(wav).copy())
        return {"ovrl": 3.0 + float(np.std(wav)), "sig": 3.0, "bak": 3.0, "p808": 3.0}

    monkeypatch.setattr(evaluation, "dnsmos", fake_dnsmos)
    sources = voices[:2]
    stub_outputs(sources.sum(0), split_outputs(sources))
    results = evaluate(tiny_dprnn(n_outputs=4), [("utt0", sources.sum(0).numpy(), sources.numpy())], tmp_path, "tiny",
                       metrics=("si_sdr", "dnsmos"))
    m = results["metrics"]
    assert "dnsmosi" in m and "dnsmosi_loudest" in m and "si_sdri_best_assignment" in m
    assert "dnsmosi_best_assignment" not in m  # that selection reads the references
    assert len(calls) == 1 + 2 + 2  # the mixture once, the C outputs, the C loudest
    assert sum(np.allclose(c, sources.sum(0).numpy()) for c in calls) == 1


def test_pesq_and_stoi(voices):
    sources = voices[:2].double().numpy()
    mix = sources.sum(0)
    perfect = utterance_metrics(mix, sources, sources[::-1], RATE, metrics=("pesq", "stoi"))
    assert perfect["pesq"] > 4 and perfect["stoi"] > 0.99 and perfect["pesqi"] > 1 and perfect["stoii"] > 0.1
    useless = utterance_metrics(mix, sources, np.stack([mix, mix]) / 2, RATE, metrics=("pesq", "stoi"))
    assert abs(useless["pesqi"]) < 1e-3 and abs(useless["stoii"]) < 1e-3


def test_reference_free_dnsmos_and_remix(tiny_dprnn, voices, stub_outputs, tmp_path):
    import soundfile as sf

    mix = voices[0]
    sf.write(tmp_path / "rec.wav", mix.numpy(), RATE, subtype="FLOAT")
    noise = 1e-4 * torch.randn(8000, generator=torch.Generator().manual_seed(1))
    stub_outputs(mix, torch.stack([noise, mix - noise, torch.zeros(8000), torch.zeros(8000)]))  # one active output
    results = evaluate_reference_free(tiny_dprnn(n_outputs=4), [str(tmp_path / "rec.wav")], tmp_path / "out")
    m = results["metrics"]
    assert results["references"] is False and "WITHOUT reference" in results["note"]
    assert m["active_outputs"] == 1 and m["remix_si_sdr"] > 60  # the outputs sum back to the input
    assert 1 <= m["dnsmos_sig"] <= 5 and 1 <= m["dnsmos_ovrl"] <= 5 and 1 <= m["dnsmos_p808"] <= 5
    assert "WITHOUT reference sources" in (tmp_path / "out" / "results.md").read_text().splitlines()[0]
    with pytest.raises(ValueError, match="Unknown reference-free metrics \\['pesq'\\]"):
        evaluate_reference_free(tiny_dprnn(), [str(tmp_path / "rec.wav")], tmp_path / "out", metrics=("pesq",))


def test_recipe_step_on_a_manifest_without_sources(tiny_dprnn, voices, stub_outputs, tmp_path, capsys):
    import soundfile as sf

    (tmp_path / "manifests").mkdir()
    (tmp_path / "exp").mkdir()
    entries = []
    for i in range(2):
        path = tmp_path / f"rec{i}.wav"
        sf.write(path, voices[i].numpy(), RATE, subtype="FLOAT")
        stub_outputs(voices[i], torch.stack([voices[i], torch.zeros(8000), torch.zeros(8000), voices[1 - i] / 2]))
        entries.append({"id": f"rec{i}", "mix": str(path), "sources": [], "samples": 8000})
    (tmp_path / "manifests" / "tt.json").write_text(json.dumps(entries))
    torch.save(tiny_dprnn(n_outputs=4).serialize(), tmp_path / "exp" / "best_model.pth")
    args = ["evaluate", "--manifests", str(tmp_path / "manifests"), "--exp", str(tmp_path / "exp"),
            "--dataset", "my_recordings", "--metrics", "remix_si_sdr"]
    assert recipe(args) == 0
    assert "lists no sources: evaluating WITHOUT references (remix_si_sdr)" in capsys.readouterr().out
    results = json.loads((tmp_path / "exp" / "results.json").read_text())
    assert results["references"] is False and results["metrics"]["active_outputs"] == 2
    assert 4 < results["metrics"]["remix_si_sdr"] < 8  # the other voice at -6 dB in the remix: about 6 dB
    entries[0]["sources"] = [str(tmp_path / "rec1.wav")]
    (tmp_path / "manifests" / "tt.json").write_text(json.dumps(entries))
    assert recipe([*args, "--force"]) == 2
    assert "lists sources for some rows only (1 of 2)" in capsys.readouterr().err
