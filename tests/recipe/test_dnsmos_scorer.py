"""Our DNSMOS scorer against the official method as the speechmos package runs it."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from asteroid_deepmask.recipe import dnsmos_scorer as scorer_module
from asteroid_deepmask.recipe.dnsmos_scorer import (DNSMOS_RATE, DNSMOS_SCORES, DnsmosScorer, dnsmos_scorer,
                                                    window_starts)


def speech_clip(voices, seconds, seed):
    """``seconds`` of the 1 s voices at 16 kHz, one after another with random gains, over a quiet noise
    floor, peak 0.9."""
    generator = torch.Generator().manual_seed(seed)
    voices16 = AF.resample(voices, 8000, DNSMOS_RATE)
    order = torch.randint(len(voices16), (int(np.ceil(seconds)),), generator=generator)
    gains = 0.5 + 2 * torch.rand(len(order), 1, generator=generator)
    clip = (voices16[order] * gains).reshape(-1)[:int(seconds * DNSMOS_RATE)]
    clip = clip + 3e-3 * torch.randn(clip.shape, generator=generator)
    return (0.9 * clip / clip.abs().max()).numpy()  # within DNSMOS's [-1, 1]


@pytest.mark.parametrize("seconds", [2, 4, 12, 2.5, 3.30007])
def test_scores_equal_speechmos(voices, seconds):
    """Each of the four scores within 1e-3 of speechmos's, on repeated clips (2 and 4 s: 7 windows, 2 and 4
    distinct; 2.5 s: one window; 52801 samples: 5 windows whose frames do not repeat) and a long one (12 s)."""
    from speechmos import dnsmos as speechmos_dnsmos

    clip = speech_clip(voices, seconds, seed=int(seconds * 10))
    theirs = speechmos_dnsmos.run(clip, sr=DNSMOS_RATE)
    ours = dnsmos_scorer()(clip)
    assert ours == {name: pytest.approx(float(theirs[f"{name}_mos"]), abs=1e-5) for name in DNSMOS_SCORES}
    assert abs(ours["sig"] - ours["bak"]) > 1e-2  # the clip tells the scores apart


def test_window_starts_follow_dnsmos():
    """The windows of speechmos's loop: a short clip doubled until it holds 9.01 s, then one window per
    second while one fits; from 7 s to 23 s past the start, DNSMOS's float arithmetic ends each window a
    sample short and DNSMOS drops it."""
    assert window_starts(4 * DNSMOS_RATE) == ([s * DNSMOS_RATE for s in range(7)], 16 * DNSMOS_RATE)
    assert window_starts(3 * DNSMOS_RATE) == ([0, DNSMOS_RATE, 2 * DNSMOS_RATE], 12 * DNSMOS_RATE)
    starts, length = window_starts(20 * DNSMOS_RATE)
    assert length == 20 * DNSMOS_RATE and starts == [s * DNSMOS_RATE for s in range(7)]
    starts, _ = window_starts(40 * DNSMOS_RATE)
    assert starts == [s * DNSMOS_RATE for s in [*range(7), *range(24, 31)]]


@pytest.mark.parametrize("seconds, max_batch", [(2, 16), (12, 16), (40, 4)])
def test_each_windows_raw_p835_output_is_the_whole_networks(seconds, max_batch):
    """The trunk shared by overlapping windows, their edges recomputed, gives each window what the whole
    P.835 network gives it: a repeated 2 s clip (one period of frames), 12 s (one run over 11 s of frames),
    and 40 s in runs of at most 4 windows (windows from 0 to 6 s and from 24 s: DNSMOS drops 7 to 23 s)."""
    from importlib import resources

    import onnxruntime as ort

    n = seconds * DNSMOS_RATE
    rng = np.random.default_rng(seconds)
    wav = (0.3 * rng.standard_normal(n) * np.sin(np.arange(n) / 3000)).astype("float32")
    starts, _ = window_starts(n)
    whole = ort.InferenceSession((resources.files("speechmos") / scorer_module.P835_MODEL).read_bytes(),
                                 providers=["CPUExecutionProvider"])
    windows = wav[(np.array(starts)[:, None] + np.arange(scorer_module.WINDOW)) % n]
    expected = whole.run(None, {"input_1": windows})[0]
    np.testing.assert_allclose(DnsmosScorer(max_batch).p835_raw(wav, starts), expected, atol=1e-5, rtol=0)


def test_sessions_are_created_once(monkeypatch):
    """One ONNX Runtime session per network part (P.835's trunk and head, P.808) for the whole process,
    however many clips are scored."""
    from asteroid_deepmask.recipe.reference_free import dnsmos

    created, real = [], scorer_module.ort.InferenceSession

    def counting(*args, **kwargs):
        created.append(args[0][:4])
        return real(*args, **kwargs)

    dnsmos_scorer.cache_clear()
    monkeypatch.setattr(scorer_module.ort, "InferenceSession", counting)
    try:
        for n in (4000, 8000, 12000):
            dnsmos(0.1 * np.random.default_rng(n).standard_normal(n).astype("float32"), 8000)
    finally:
        dnsmos_scorer.cache_clear()  # later tests create their own, with the real sessions
    assert len(created) == 3


def test_scoring_runs_neither_speechmos_code_nor_librosa():
    """speechmos's module imports librosa (and requests, which Asteroid imports anyway); our scoring imports
    neither it nor librosa (a fresh process: other tests import speechmos)."""
    code = ("import sys, numpy as np\n"
            "from asteroid_deepmask.recipe.reference_free import dnsmos\n"
            "dnsmos(np.zeros(8000, 'float32'), 8000)\n"
            "print(sorted({'librosa', 'speechmos.dnsmos'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_clear_errors():
    """An empty clip and one outside DNSMOS's range get one line naming the fix."""
    scorer = dnsmos_scorer()
    with pytest.raises(ValueError, match="empty clip"):
        scorer(np.zeros(0, dtype="float32"))
    with pytest.raises(ValueError, match="within \\[-1, 1\\]: scale the clip down"):
        scorer(np.full(100, 1.5, dtype="float32"))
    assert isinstance(scorer, DnsmosScorer)
