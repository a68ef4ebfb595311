"""The small trained models the Examples gallery keeps in ``docs/examples/models/`` (made by
``docs/examples/make_models.sh``): each loads from its hub folder, stays under 1 MB, separates a
short synthetic mixture into the right shape, and has the recipe's evaluation beside it."""
import json
import os

import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "docs", "examples", "models")
#: name -> (sources C, outputs P)
KEPT = {"mini2mix_mlp": (2, 2), "mini2mix_p4": (2, 4), "mini2mix_causal": (2, 2)}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_kept_model_loads_is_small_and_separates(name):
    folder = os.path.join(MODELS, name)
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    assert size < 1_000_000, f"{folder} holds {size} bytes; the kept example models stay under 1 MB"
    assert {"config.json", "model.safetensors", "results.json"} <= set(os.listdir(folder))
    model = DPRNNDeepMask.from_pretrained(folder).eval()
    n_src, n_outputs = KEPT[name]
    assert model.sample_rate == 8000
    # a short synthetic mixture: two harmonic tones with different pitches, 0.5 s at 8 kHz
    t = torch.arange(4000) / 8000.0
    mixture = sum(torch.sin(2 * torch.pi * f0 * k * t) / k for f0 in (130.0, 210.0) for k in range(1, 6))
    mixture = 0.3 * mixture[None] / mixture.abs().max()
    with torch.no_grad():
        estimates = model(mixture)
        outputs = model.forward_outputs(mixture)
    assert estimates.shape == (1, n_src, 4000) and outputs.shape == (1, n_outputs, 4000)
    assert torch.isfinite(estimates).all() and estimates.abs().max() > 0
    # the evaluation the pages print, as the recipe wrote it: a positive SI-SDRi on the test set
    with open(os.path.join(folder, "results.json")) as f:
        results = json.load(f)
    assert results["dataset"] == "mini2mix"
    assert results["summary"]["si_sdri"]["n"] == 50 and results["summary"]["si_sdri"]["mean"] > 0
