"""
Separating two talkers: mini2mix and real recorded speech
=========================================================

A small DPRNN with the MLP mask head, trained on mini2mix (the offline corpus of synthetic
eSpeak NG voices that ``./egs/mini2mix/run.sh`` makes), separates three mixtures of two test
voices it never heard in training, and then a mixture of two real recorded talkers. For each
mixture the page shows the spectrograms of the mixture, the model's two estimates and the two
references, players for all five, and the SI-SDR of each estimate, computed here.

The model is kept in the repository (``docs/examples/models/mini2mix_mlp/``, a hub folder made by
``docs/examples/make_models.sh``), so this page needs no training and is the same on every build.
It is a smoke-test model, trained for a few minutes on a CPU: expect a few dB of improvement,
not the paper's numbers.
"""

# %%
# The model
# ---------
# ``from_pretrained`` reads a hub folder (``model.safetensors`` and ``config.json``); its
# ``results.json`` is the recipe's evaluation on the mini2mix test set. The helpers (test
# mixtures, SI-SDR, spectrograms, audio players) are in ``docs/examples/helpers/gallery_helpers.py``,
# shared by the examples.
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from asteroid_deepmask import DPRNNDeepMask

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
sys.path.insert(0, str(HERE / "helpers"))
from gallery_helpers import (Players, best_order, describe, mini2mix_test_mixtures,  # noqa: E402
                             plot_spectrograms, si_sdr)

folder = HERE / "models" / "mini2mix_mlp"
model = DPRNNDeepMask.from_pretrained(folder).eval()
rate = int(model.sample_rate)
results = describe(model, folder)


# %%
# Separate, score, show
# ---------------------
# SI-SDR (scale-invariant signal-to-distortion ratio, in dB) projects the estimate on the
# reference and compares the energy of that projection with the rest. A separation model does
# not know which source is "first", so each estimate is paired with the reference it matches
# best (the permutation with the highest mean SI-SDR). SI-SDRi is the improvement over the
# mixture itself taken as the estimate.
def separate(title, mixture, references):
    """Separate, score, plot; returns the players (the last expression of a cell is shown)."""
    with torch.no_grad():
        estimates = model(torch.as_tensor(mixture, dtype=torch.float32)).numpy()
    estimates = [estimates[i] for i in best_order(estimates, references)]
    scores = [si_sdr(e, r) for e, r in zip(estimates, references)]
    gains = [s - si_sdr(mixture, r) for s, r in zip(scores, references)]
    panels = [("mixture", mixture), None]
    for i, (e, r, s) in enumerate(zip(estimates, references, scores), 1):
        panels += [(f"estimate {i}: SI-SDR {s:.1f} dB", e), (f"reference {i}", r)]
    plot_spectrograms(title, panels, rate, note="each estimate beside the reference\nit matches best (highest SI-SDR)")
    rows = [("mixture", mixture, "")]
    rows += [(f"estimate {i}", e, f"SI-SDR {s:.1f} dB (SI-SDRi {g:.1f} dB)")
             for i, (e, s, g) in enumerate(zip(estimates, scores, gains), 1)]
    rows += [(f"reference {i}", r, "") for i, r in enumerate(references, 1)]
    return Players(rows, rate)  # each clip peak-normalised: every player is as loud


# %%
# Three mini2mix test mixtures
# ----------------------------
# The recipe's stage 0 (``python -m asteroid_deepmask.recipe mini2mix``, the package's mini2mix
# generator) makes them here, in a few seconds: two utterances of two test voices (the voices kept
# out of training), brought to the same level, set apart by up to 5 dB, and summed; three
# different pairs of voices. The recipe's seed gives the same mixtures on every build.
examples = mini2mix_test_mixtures(3)
for name, mixture, references in examples:
    print(f"{name}: {len(mixture) / rate:.2f} s")

# %%
# The names say the two voices (an eSpeak variant with its pitch and rate) and their levels in dB.
# In the spectrograms each estimate should keep the harmonics of one voice and drop the other's.
name, mixture, references = examples[0]
separate(f"mini2mix test mixture {name}", mixture, references)

# %%
name, mixture, references = examples[1]
separate(f"mini2mix test mixture {name}", mixture, references)

# %%
name, mixture, references = examples[2]
separate(f"mini2mix test mixture {name}", mixture, references)

# %%
# Real recorded speech
# --------------------
# Two real talkers: Allison Smith (US English) and the ivrvoice.ru Russian voice provided by
# Maxim Topal, in two recorded voice prompts of the Asterisk PBX that Debian packages
# (``asterisk-core-sounds-en-wav`` and ``asterisk-core-sounds-ru-wav`` 1.6.1; CC BY-SA 3.0 and
# CC BY 3.0: ``docs/examples/data/PROVENANCE.txt`` gives the paths and the credits). Both are at
# 8 kHz, the model's rate. We mix them as mini2mix does (same level, cut to the shorter one), so
# we have the references. The model has only heard synthetic voices: real voices, with their
# breath, room and microphone, are out of its training domain, and the scores show how much
# that costs.
data = HERE / "data"
talkers = [sf.read(data / name, dtype="float32") for name in
           ("en_US_f_Allison_tt-weasels.wav", "ru_RU_f_IvrvoiceRU_vm-nonumber.wav")]
assert all(r == rate for _, r in talkers)
length = min(len(wav) for wav, _ in talkers)
references = [wav[:length] / np.sqrt(np.mean(wav[:length] ** 2)) for wav, _ in talkers]
scale = 0.9 / np.abs(sum(references)).max()
references = [scale * r for r in references]
mixture = sum(references)
separate("real recordings: Allison Smith (en) + ivrvoice.ru (ru)", mixture, references)

# %%
# What to listen for
# ------------------
# The players are peak-normalised, so every clip plays as loud. On mini2mix each estimate leans
# towards one voice, with the other still audible where both talk at once. On the real
# recordings, expect a much weaker separation: this small model was trained for minutes on
# synthetic speech (the first cell prints its size), and real voices are new to it. The recipes in ``egs/`` train the paper's models on real corpora
# (wsj0-2mix, WHAMR!, LibriMix).
