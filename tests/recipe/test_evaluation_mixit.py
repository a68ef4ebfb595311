"""Evaluation of overseparated (MixIT) models: P-output rows, PESQ / STOI / DNSMOS, and scores without references."""
import json

import numpy as np
import pytest
import torch

from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder
from asteroid_deepmask.recipe import main as recipe
from asteroid_deepmask.recipe.evaluation import evaluate, match_kept, utterance_metrics
from asteroid_deepmask.recipe.reference_free import evaluate_reference_free, remix_si_sdr

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
    assert set(results["rows"]) == {"<metric>", "<metric>_best_assignment", "<metric>_loudest", "<metric>_active"}
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
    assert "dnsmosi_active" in m
    assert len(calls) == 1 + 2 + 2 + 2  # the mixture once, the C outputs, the C loudest, the C matched active ones
    assert sum(np.allclose(c, sources.sum(0).numpy()) for c in calls) == 1


def test_active_rows_score_what_separate_active_only_keeps(tiny_dprnn, voices, stub_outputs, tmp_path):
    sources = voices[:2]
    outputs = split_outputs(sources)
    stub_outputs(sources.sum(0), outputs)
    results = evaluate(tiny_dprnn(n_outputs=4), [("utt0", sources.sum(0).numpy(), sources.numpy())], tmp_path, "tiny",
                       metrics=("si_sdr",))
    # kept: both halves of source 1 and source 2 (not the silent output); scored: source 2's output and the half
    # of source 1 that matches it best, as the C = 2 kept outputs a user would match by ear
    mix = sources.sum(0).numpy()
    refs = sources.numpy().astype(float)
    halves = [utterance_metrics(mix, refs, np.stack([outputs[i].numpy(), outputs[3].numpy()]), RATE, ("si_sdr",))
              for i in (0, 2)]
    m = results["metrics"]
    assert m["si_sdri_active"] == pytest.approx(max(h["si_sdri"] for h in halves), abs=1e-3)
    assert m["si_sdri_best_assignment"] - m["si_sdri_active"] > 20


def test_a_source_without_a_kept_output_is_scored_on_the_mixture():
    rng = np.random.default_rng(0)
    refs = rng.standard_normal((3, 800))
    mix = refs.sum(0)
    kept = np.stack([refs[2] + 0.01 * rng.standard_normal(800), 0.5 * refs[0]])
    matched = match_kept(kept, refs, mix)
    np.testing.assert_array_equal(matched[[0, 2]], kept[[1, 0]])
    np.testing.assert_array_equal(matched[1], mix)
    # more kept outputs than sources: the best one-to-one match, the others left out
    many = np.stack([refs[1] + rng.standard_normal(800), refs[0], refs[1], 0.1 * refs[2]])
    np.testing.assert_array_equal(match_kept(many, refs[:2], mix), refs[:2])
    np.testing.assert_array_equal(match_kept(np.zeros((0, 800)), refs, mix), np.stack([mix] * 3))


def test_pesq_and_stoi(voices):
    sources = voices[:2].double().numpy()
    mix = sources.sum(0)
    perfect = utterance_metrics(mix, sources, sources[::-1], RATE, metrics=("pesq", "stoi"))
    assert perfect["pesq"] > 4 and perfect["stoi"] > 0.99 and perfect["pesqi"] > 1 and perfect["stoii"] > 0.1
    useless = utterance_metrics(mix, sources, np.stack([mix, mix]) / 2, RATE, metrics=("pesq", "stoi"))
    assert abs(useless["pesqi"]) < 1e-3 and abs(useless["stoii"]) < 1e-3


def test_reference_free_dnsmos_and_remix(tiny_dprnn, voices, stub_outputs, tmp_path, monkeypatch):
    import soundfile as sf

    from asteroid_deepmask.recipe import reference_free

    calls = []

    def fake_dnsmos(wav, sample_rate):  # records what is scored, at which rate; a score per name and output
        calls.append((np.asarray(wav).copy(), sample_rate))
        level = float(np.std(np.asarray(wav)))
        return {"ovrl": 1 + level, "sig": 2 + level, "bak": 3 + level, "p808": 4 + level}

    monkeypatch.setattr(reference_free, "dnsmos", fake_dnsmos)
    mix = voices[0]
    sf.write(tmp_path / "rec.wav", mix.numpy(), RATE, subtype="FLOAT")
    noise = 1e-4 * torch.randn(8000, generator=torch.Generator().manual_seed(1))
    outputs = torch.stack([0.3 * mix, noise, 0.7 * mix - noise, torch.zeros(8000)])  # -10.5, -60, -3.1 dB, silent
    stub_outputs(mix, outputs)
    results = evaluate_reference_free(tiny_dprnn(n_outputs=4), [str(tmp_path / "rec.wav")], tmp_path / "out")
    m = results["metrics"]
    assert results["references"] is False and "WITHOUT reference" in results["note"]
    assert m["active_outputs"] == 2 and m["remix_si_sdr"] > 60  # the outputs sum back to the input
    # the two active outputs of the four, loudest first, each once, at the model's rate (dnsmos resamples)
    assert [rate for _, rate in calls] == [RATE, RATE]
    assert len(calls) == 2 and all(wav.shape == (8000,) for wav, _ in calls)
    np.testing.assert_allclose(calls[0][0], outputs[2].numpy(), atol=1e-6)
    np.testing.assert_allclose(calls[1][0], outputs[0].numpy(), atol=1e-6)
    level = np.mean([outputs[2].numpy().std(), outputs[0].numpy().std()])
    for offset, name in enumerate(("ovrl", "sig", "bak", "p808")):  # each name's mean over the scored outputs
        assert m[f"dnsmos_{name}"] == pytest.approx(1 + offset + level, abs=1e-3), name
    assert "WITHOUT reference sources" in (tmp_path / "out" / "results.md").read_text().splitlines()[0]
    with pytest.raises(ValueError, match="Unknown reference-free metrics \\['pesq'\\]"):
        evaluate_reference_free(tiny_dprnn(), [str(tmp_path / "rec.wav")], tmp_path / "out", metrics=("pesq",))


def test_dnsmos_scores_the_clip_at_16_khz_within_range_as_speechmos_does(voices, monkeypatch):
    """One real call on a 1 s voice at 8 kHz: the scorer gets it resampled to 16 kHz, and our names hold the
    scores speechmos gives that clip; a clip beyond [-1, 1] is scaled down to a peak of 1 first."""
    import torchaudio.functional as AF
    from speechmos import dnsmos as speechmos_dnsmos

    from asteroid_deepmask.recipe import reference_free

    scorer, seen = reference_free.dnsmos_scorer(), []

    def spy(wav):
        seen.append(wav)
        return scorer(wav)

    monkeypatch.setattr(reference_free, "dnsmos_scorer", lambda: spy)
    ours = reference_free.dnsmos(voices[0].numpy(), RATE)
    clip = AF.resample(voices[0], RATE, reference_free.DNSMOS_RATE).numpy()
    np.testing.assert_allclose(seen[0], clip, atol=1e-6)
    theirs = speechmos_dnsmos.run(clip, sr=reference_free.DNSMOS_RATE)
    assert abs(theirs["sig_mos"] - theirs["bak_mos"]) > 1e-3  # the clip tells sig from bak
    assert ours == {name: pytest.approx(float(theirs[f"{name}_mos"]), abs=1e-3) for name in reference_free.DNSMOS_SCORES}
    reference_free.dnsmos(np.full(800, 4.0, "float32"), reference_free.DNSMOS_RATE)
    assert np.abs(seen[1]).max() == 1.0


def test_remix_si_sdr_scores_against_the_projection():
    """An imperfect remix: 0.5 * mixture plus an error orthogonal to it, at -10 dB of that scaled mixture.

    Its SI-SDR is 10 dB; against the mixture itself (no projection) it would be about 5.6 dB, and against
    the remix itself, unbounded."""
    generator = torch.Generator().manual_seed(0)
    mix = torch.randn(4000, dtype=torch.float64, generator=generator)
    mix -= mix.mean()
    error = torch.randn(4000, dtype=torch.float64, generator=generator)
    error -= error.mean()
    error -= (error @ mix) / (mix @ mix) * mix  # orthogonal to the mixture, zero mean
    error *= (0.1 * (0.5 * mix).pow(2).sum() / error.pow(2).sum()).sqrt()
    remix = 0.5 * mix + error
    outputs = torch.stack([0.25 * remix + 0.1, 0.75 * remix - 0.1])  # an offset the means take out
    assert remix_si_sdr(outputs, mix + 0.3) == pytest.approx(10.0, abs=1e-6)
    snr = 10 * np.log10(mix.pow(2).sum() / (remix - mix).pow(2).sum())
    assert abs(remix_si_sdr(outputs, mix) - snr) > 4  # what scoring without the projection would give
    assert remix_si_sdr(0.2 * torch.stack([mix, mix]), mix) > 100  # a scaled, perfect remix: nothing lost


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


def _si_sdr(ref, est):
    ref, est = ref - ref.mean(), est - est.mean()
    target = (est @ ref) / (ref @ ref) * ref
    return 10 * np.log10(np.sum(target ** 2) / np.sum((est - target) ** 2))


def test_a_selection_in_the_sources_order_is_scored_in_that_order():
    """`*_active` gives a reference left without a kept output the mixture: re-permuting would hand that
    mixture to the louder reference and score the selection better than it is."""
    from asteroid_deepmask.recipe.evaluation import scores

    rng = np.random.default_rng(0)
    sources = np.stack([rng.standard_normal(8000), 0.3 * rng.standard_normal(8000)])
    mix = sources.sum(0)
    # the sources' order as a selection fixed it: source 0 got no output, so the mixture; source 1 an output that
    # is mostly source 0 (a poor model), which a permutation would move to source 0
    in_order = np.stack([mix, sources[0] + 0.1 * rng.standard_normal(8000)])
    expected = np.mean([_si_sdr(s, e) for s, e in zip(sources, in_order)])
    assert scores(mix, sources, in_order, 8000, ["si_sdr"], permute=False)["si_sdr"] == pytest.approx(expected, abs=1e-3)
    assert scores(mix, sources, in_order, 8000, ["si_sdr"])["si_sdr"] > expected + 1  # what permuting would report
