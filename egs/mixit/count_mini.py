"""How often an overseparated model counts the voices of mini2mix-style mixtures of 1, 2 and 3 voices.

From each mixture of the test manifest (``tt.json``, two voices ``s1``, ``s2``): one voice (its
``s1``), two (its ``s1 + s2``) and three (``s1 + s2`` plus the ``s1`` of the next test mixture
whose two voices are others, cut to the shorter), each scored by ``model.count_sources``
(:func:`asteroid_deepmask.models.source_counting.active_sources`) at ``--thresholds`` dB relative
to the mixture. Prints, per number of voices and threshold, the share counted right and the counts.

    python egs/mixit/count_mini.py --model exp/mixit/mini2mix/unsupervised_seed0/best_model.pth \\
        --manifests data/mini2mix/manifests
"""
import argparse
import os
import sys
from collections import Counter

import numpy as np
import soundfile as sf


def voices_of(row_id):
    """The two voice names in a mini2mix utterance id (``<n>_<voice>_<gain>_<voice>_<gain>``)."""
    parts = row_id.split("_")
    return {parts[1], parts[3]}


def mixtures_by_voices(rows):
    """``{1: [...], 2: [...], 3: [...]}``: waveforms of one, two and three voices from the manifest ``rows``."""
    out = {1: [], 2: [], 3: []}
    for i, row in enumerate(rows):
        s1, s2 = (sf.read(p, dtype="float32")[0] for p in row["sources"])
        out[1].append(s1)
        out[2].append(s1 + s2)
        other = next((r for r in rows[i + 1:] + rows[:i] if not voices_of(r["id"]) & voices_of(row["id"])), None)
        if other is not None:
            third = sf.read(other["sources"][0], dtype="float32")[0]
            n = min(len(s1), len(third))
            out[3].append(s1[:n] + s2[:n] + third[:n])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="best_model.pth, hub folder or repository id")
    parser.add_argument("--manifests", required=True, help="folder of a mini2mix test manifest tt.json")
    parser.add_argument("--thresholds", type=float, nargs="+", default=None,
                        help="dB relative to the mixture (default: the library's default threshold)")
    args = parser.parse_args()
    import json

    import torch

    from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder
    from asteroid_deepmask.models.source_counting import ACTIVE_THRESHOLD_DB

    model = DeepMaskEncoderMaskerDecoder.from_pretrained(args.model).eval()
    with open(os.path.join(args.manifests, "tt.json")) as f:
        rows = json.load(f)
    if not rows or not all(len(r.get("sources") or []) == 2 for r in rows):
        sys.exit(f"{args.manifests}/tt.json must list two sources for every mixture (a mini2mix test manifest).")
    thresholds = args.thresholds or [ACTIVE_THRESHOLD_DB]
    print(f"model {args.model} ({type(model).__name__}, P = {model.masker.n_outputs} outputs); "
          f"{len(rows)} test mixtures of {args.manifests}/tt.json\n")
    print("| voices | mixtures | threshold (dB) | counted right | counts (count: mixtures) |\n|---|---|---|---|---|")
    for voices, wavs in mixtures_by_voices(rows).items():
        for threshold in thresholds:
            counts = [model.count_sources(torch.from_numpy(w), threshold) for w in wavs]
            right = np.mean([c == voices for c in counts])
            spread = ", ".join(f"{c}: {n}" for c, n in sorted(Counter(counts).items()))
            print(f"| {voices} | {len(wavs)} | {threshold:g} | {right:.0%} | {spread} |")


if __name__ == "__main__":
    main()
