"""
What overseparation does: P outputs summed into C sources
=========================================================

An overseparated model estimates P masks for C sources, P > C (here P = 4, C = 2): the mask
head gives P outputs, and fixed contiguous groups of them are summed into the C sources (outputs
1 and 2 make source 1, outputs 3 and 4 source 2). The loss only sees the C sums, so how a source
is split over its group's outputs is left to training: by frequency band, by time, or in near
copies that each carry part of it; the spectrograms below show what this model learnt. The paper
(Li, Hu, Luo, Interspeech 2022) finds that this overseparation-grouping helps when the mask
activation f is nonlinear (ReLU, sigmoid): a sum of P rectified masks can shape a source's mask
in ways one rectified linear layer cannot, as a cheap way to make the mask estimation deeper.

This page runs a small overseparated model (``docs/examples/models/mini2mix_p4/``: the trunk of
the other example's model, P = 4 linear masks with f = ReLU, trained on mini2mix by
``docs/examples/make_models.sh``) on one mini2mix test mixture, and shows its P outputs before
grouping, then the C sources after it, as spectrograms and players.
"""

# %%
# The model and one test mixture
# ------------------------------
# The mixture comes from the recipe's mini2mix generator (its seed: two of the test voices, which
# the model never heard in training). ``results.json`` is the recipe's evaluation of this model
# on the mini2mix test set. The helpers (test mixtures, SI-SDR, spectrograms, audio
# players) are in ``docs/examples/helpers/gallery_helpers.py``, shared by the examples.
import sys
import textwrap
from pathlib import Path

import numpy as np
import torch

from asteroid_deepmask import DPRNNDeepMask, group_outputs

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
sys.path.insert(0, str(HERE / "helpers"))
from gallery_helpers import (Players, best_order, describe, mini2mix_test_mixtures,  # noqa: E402
                             plot_spectrograms, si_sdr)

folder = HERE / "models" / "mini2mix_p4"
model = DPRNNDeepMask.from_pretrained(folder).eval()
n_outputs, n_src = model.masker.n_outputs, model.masker.n_src
rate = int(model.sample_rate)
results = describe(model, folder)

[(name, mixture, references)] = mini2mix_test_mixtures(1)
print(f"mixture {name}: {len(mixture) / rate:.2f} s")

# %%
# The P outputs, before grouping
# ------------------------------
# ``forward_outputs`` gives the P waveforms. The decoder is linear, so summing them in their
# groups is exactly what the model's ``forward`` returns. Each output's energy is given as a
# share of its group's, and its SI-SDR against the reference its group matches best: an output
# alone is only part of a source.
with torch.no_grad():
    outputs = model.forward_outputs(torch.as_tensor(mixture))  # [P, time]
    sources = group_outputs(outputs[None], n_src)[0]  # [C, time]
    assert torch.allclose(sources, model(torch.as_tensor(mixture)), atol=1e-5)
outputs, sources = outputs.numpy(), sources.numpy()

matched = best_order(sources, references)  # matched[r]: the source that matches reference r best
order = [matched.index(g) for g in range(n_src)]  # order[g]: the reference that source g matches best
per_group = n_outputs // n_src
rows, panels = [], []
for p, wav in enumerate(outputs):
    group = p // per_group
    members = outputs[group * per_group:(group + 1) * per_group]
    share = np.sum(wav**2) / np.sum(members**2)
    score = si_sdr(wav, references[order[group]])
    note = f"group {group + 1}: {100 * share:.0f} % of its energy, SI-SDR {score:.1f} dB against reference {order[group] + 1}"
    print(f"output {p + 1}: {note}")
    rows.append((f"output {p + 1}", wav, note))
    panels.append((f"output {p + 1} (group {group + 1}): {100 * share:.0f} % of the group's energy", wav))
plot_spectrograms(f"the P = {n_outputs} outputs for mixture {name}", panels, rate, columns=per_group)
Players([("mixture", mixture, "")] + rows, rate, same_scale=True)  # a quiet output sounds quiet

# %%
# The C sources, after grouping
# -----------------------------
# Summing each group gives the model's estimates. Compare them with the references, and with the
# single outputs above: the split within a group need not follow anything a listener would name,
# since only the sums are trained. Which group gives which talker is not fixed either: training
# is permutation-invariant, so each source is scored against the reference it matches best.
rows, panels = [("mixture", mixture, "")], [("mixture", mixture)]
for g, wav in enumerate(sources):
    r = order[g]
    score = si_sdr(wav, references[r])
    gain = score - si_sdr(mixture, references[r])
    print(f"source {g + 1} (outputs {g * per_group + 1}-{(g + 1) * per_group}): SI-SDR {score:.2f} dB, "
          f"SI-SDRi {gain:.2f} dB against reference {r + 1}")
    label = f"source {g + 1} = outputs {g * per_group + 1}-{(g + 1) * per_group}"
    rows.append((label, wav, f"SI-SDR {score:.1f} dB (SI-SDRi {gain:.1f} dB) against reference {r + 1}"))
    panels += [(f"{label}: SI-SDR {score:.1f} dB", wav), (f"reference {r + 1}", references[r])]
panels.insert(1, None)
plot_spectrograms(f"the C = {n_src} grouped sources for mixture {name}", panels, rate)
Players(rows + [(f"reference {r + 1}", references[r], "") for r in range(n_src)], rate, same_scale=True)

# %%
# Other ways to use the P outputs
# -------------------------------
# The recipe's evaluation also scores the P outputs grouped in two other ways: by the best
# assignment of each output to a reference (an oracle, as MixIT papers report it), and by keeping
# only the C most energetic outputs (what a user without references might try). The fixed groups
# the model was trained with are the ones to use: an output alone is part of a source.
for key, what in results["rows"].items():
    metric = key.replace("<metric>", "si_sdri")
    s = results["summary"][metric]
    print(f"{metric}: {s['mean']:.2f} dB (95 % CI +- {s['ci95']:.2f})")
    print(textwrap.fill(what, width=88, initial_indent="    ", subsequent_indent="    "))
