import pytest
import torch

from asteroid_deepmask.losses import mixture_consistency
from asteroid_deepmask.models.source_counting import (ACTIVE_THRESHOLD_DB, active_sources, distinct_energies,
                                                       output_levels_db)


def oracle_outputs(voices, n_voices, n_outputs=6, leakage_db=-40.0):
    """Mixture of the first ``n_voices`` voices and P outputs: the voices (scaled apart, at shuffled positions)
    and the rest carrying leakage ``leakage_db`` below the mixture, as a trained MixIT model leaves them."""
    gains = torch.tensor([1.0, 0.5, 0.25])[:n_voices]
    sources = voices[:n_voices] * gains[:, None]
    mix = sources.sum(0)
    noise = torch.randn(n_outputs - n_voices, mix.shape[-1], generator=torch.Generator().manual_seed(0))
    leak = noise / noise.pow(2).mean(-1, keepdim=True).sqrt() * mix.pow(2).mean().sqrt() * 10 ** (leakage_db / 20)
    order = torch.tensor([3, 0, 5, 1, 4, 2])[:n_outputs]
    return mix, torch.cat([sources, leak])[order.argsort()], order


@pytest.mark.parametrize("n_voices", [1, 2, 3])
def test_oracle_outputs_are_counted_and_ranked(voices, n_voices):
    mix, outputs, order = oracle_outputs(voices, n_voices)
    # the voices sit at positions order[0], order[1], ... and are 0, 6 and 12 dB apart: loudest first
    assert active_sources(outputs, mix) == order[:n_voices].tolist()
    assert active_sources(outputs[None], mix[None]) == [order[:n_voices].tolist()]


def test_silence_and_the_threshold(voices):
    assert active_sources(torch.zeros(2, 4, 8000), torch.zeros(2, 8000)) == [[], []]
    assert active_sources(torch.full((4, 8000), 1e-6), torch.full((8000,), 1e-6)) == []  # -120 dBFS: silence
    mix, outputs, order = oracle_outputs(voices, 3)
    assert active_sources(outputs, mix, threshold_db=-50.0)[:3] == order[:3].tolist()
    assert len(active_sources(outputs, mix, threshold_db=-50.0)) == 6  # the -40 dB leakage counts too
    assert len(active_sources(outputs, mix, threshold_db=-5.0)) == 1  # only the loudest voice is above -5 dB


def test_model_count_sources_on_its_outputs(tiny_dprnn, voices, monkeypatch):
    model = tiny_dprnn(n_src=2, n_outputs=6)
    cases = {n: oracle_outputs(voices, n) for n in (1, 3)}
    # the model's P outputs replaced by the oracle's of the mixture it is given (or silence)
    def forward_outputs(wav):
        batch = wav.reshape(-1, wav.shape[-1])
        found = [next((o for m, o, _ in cases.values() if torch.equal(m, x)), torch.zeros(6, x.shape[-1])) for x in batch]
        return torch.stack(found) if wav.dim() > 1 else found[0]

    monkeypatch.setattr(model, "forward_outputs", forward_outputs)
    mixes = torch.stack([torch.zeros(8000), cases[1][0], cases[3][0]])
    assert model.count_sources(mixes) == [0, 1, 3]
    assert model.count_sources(cases[3][0]) == 3 and model.count_sources(cases[3][0], threshold_db=-5.0) == 1


def test_bad_inputs():
    with pytest.raises(ValueError, match="estimates must be a \\[batch, n_out, time\\] or \\[n_out, time\\]"):
        active_sources(torch.zeros(8000), torch.zeros(8000))
    with pytest.raises(ValueError, match="mixture must have the batch and time sizes"):
        active_sources(torch.zeros(2, 3, 100), torch.zeros(2, 90))


def uniform_projection_outputs(voices, n_voices, residual_db, n_outputs=6):
    """The voices (split as a MixIT model splits them: the first over two outputs, one third and two thirds),
    near-silent leakage in the other outputs, then the uniform mixture-consistency projection with a residual
    ``residual_db`` below the mixture: every output gets the same share of it."""
    mix = voices[:n_voices].sum(0)
    parts = [voices[0] / 3, 2 * voices[0] / 3, *voices[1:n_voices]]
    leak = 1e-4 * torch.randn(n_outputs - len(parts), mix.shape[-1], generator=torch.Generator().manual_seed(1))
    raw = torch.cat([torch.stack(parts), leak])
    residual = torch.randn(mix.shape[-1], generator=torch.Generator().manual_seed(2))
    residual *= mix.norm() / residual.norm() * 10 ** (residual_db / 20)
    projected = mixture_consistency(raw[None], (raw.sum(0) + residual)[None])[0]  # the residual is r / P in each
    return mix + residual, projected


@pytest.mark.parametrize("n_voices", [1, 2, 3])
def test_a_residual_that_every_output_shares_does_not_make_them_active(voices, n_voices):
    mix, outputs = uniform_projection_outputs(voices, n_voices, residual_db=0.0)
    levels = output_levels_db(outputs.pow(2).sum(-1), mix.pow(2).sum(), mix.shape[-1])
    assert (levels > ACTIVE_THRESHOLD_DB).all()  # a threshold on the outputs' own levels keeps all 6
    active = active_sources(outputs, mix)
    assert len(active) == n_voices + 1  # the voices' outputs, the first voice's two parts, and none of the rest
    assert sorted(active) == list(range(n_voices + 1))
    energies = outputs[active].pow(2).sum(-1)
    assert (energies[:-1] >= energies[1:]).all()  # loudest first


def test_distinct_energies_by_hand():
    y = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.1, 0.1, 0.0], [0.1, 0.1, 0.1]])
    energy = (y**2).sum(-1)
    nearest = torch.tensor([min(((y[p] - y[q]) ** 2).sum() for q in range(4) if q != p) for p in range(4)])
    torch.testing.assert_close(distinct_energies(y @ y.T).float(), torch.minimum(energy, nearest))
    assert distinct_energies(y[:1] @ y[:1].T).tolist() == [4.0]  # a single output: its energy


def test_outputs_all_alike_hold_one_source_not_none(voices):
    mix = voices[0]
    spread = torch.stack([mix / 4] * 4) + 1e-4 * torch.randn(4, 8000, generator=torch.Generator().manual_seed(4))
    active = active_sources(spread, mix)
    assert len(active) == 1 and active[0] == int(spread.pow(2).sum(-1).argmax())
    assert active_sources(spread, mix, threshold_db=-10.0) == []  # its own level, -12 dB, must pass too


def test_count_sources_takes_an_audio_file_as_the_issue_s_user_gives_it(tmp_path):
    import soundfile as sf

    from asteroid_deepmask import DPRNNDeepMask

    torch.manual_seed(0)
    model = DPRNNDeepMask(n_src=2, n_outputs=4, hid_size=8, n_repeats=1).eval()
    wav = 0.1 * torch.randn(4000)
    sf.write(tmp_path / "meeting.wav", torch.stack([wav, wav], 1).numpy(), 8000, subtype="FLOAT")  # stereo
    assert model.count_sources(str(tmp_path / "meeting.wav")) == model.count_sources(wav)
    assert model.count_sources(tmp_path / "meeting.wav", threshold_db=-200.0) == 4  # a pathlib path too
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(ValueError, match=r"Cannot read '.*notes\.txt' as audio"):
        model.count_sources(str(tmp_path / "notes.txt"))
