"""How often an overseparated model counts the voices of mini2mix-style mixtures of 1, 2 and 3 voices.

From each mixture of the test manifest (``tt.json``, two voices ``s1``, ``s2``; a test set, never
trained on): one voice (its ``s1``), two (its ``s1 + s2``) and three (``s1 + s2`` plus the ``s1`` of
the next test mixture whose two voices are others, cut to the shorter), each scored by
``model.count_sources`` (:func:`asteroid_deepmask.models.source_counting.active_outputs`, the rule of
``separate --active-only``) at ``--thresholds`` dB relative to the mixture. Prints, per number of voices
and threshold, the share counted right and the counts; ``--record FILE`` also writes them as a result
record, and ``--exp EXP`` scores an experiment's model into ``EXP/counting.json``
(``egs/mixit/compare_mini.sh`` does, and its table reads them).

    python egs/mixit/count_mini.py --model exp/mixit/mini2mix/unsupervised_seed0/best_model.pth \\
        --manifests data/mini2mix/manifests --thresholds -25 -20 -15 -10
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


def counting_rows(count, mixtures, thresholds):
    """One row per number of voices and threshold: ``{"voices", "threshold_db", "mixtures", "counted_right",
    "counts"}``, ``counted_right`` the share of mixtures whose count is their number of voices, ``counts``
    ``{count: mixtures}`` (keys as text, as JSON has them).

    Args:
        count (callable): ``count(waveform [time] np.ndarray, threshold_db) -> int``.
        mixtures (dict): :func:`mixtures_by_voices`'s.
        thresholds (sequence of float): dB relative to the mixture.

    Example:
        >>> mixtures = {1: [np.ones(4)], 2: [np.ones(4), 2 * np.ones(4)]}
        >>> rows = counting_rows(lambda wav, threshold: int(wav.max()), mixtures, [-20])
        >>> [(r["voices"], r["counted_right"], r["counts"]) for r in rows]
        [(1, 1.0, {'1': 1}), (2, 0.5, {'1': 1, '2': 1})]
    """
    rows = []
    for voices, wavs in mixtures.items():
        for threshold in thresholds:
            counts = [count(w, threshold) for w in wavs]
            rows.append({"voices": voices, "threshold_db": float(threshold), "mixtures": len(wavs),
                         "counted_right": float(np.mean([c == voices for c in counts])) if counts else None,
                         "counts": {str(c): n for c, n in sorted(Counter(counts).items())}})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="best_model.pth, hub folder or repository id")
    which.add_argument("--exp", help="an experiment folder: its best model, and the record written into it "
                       "(counting.json, which the comparison of egs/mixit/compare_mini.sh reads; kept unless --force)")
    parser.add_argument("--manifests", required=True, help="folder of a mini2mix test manifest tt.json")
    parser.add_argument("--thresholds", type=float, nargs="+", default=None,
                        help="dB relative to the mixture (default: the library's default threshold)")
    parser.add_argument("--record", default=None, help="also write the rows as a result record to this file")
    parser.add_argument("--force", action="store_true", help="with --exp: count again over an existing record")
    args = parser.parse_args()
    import json

    import torch

    from asteroid_deepmask.experiment import folder
    from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder
    from asteroid_deepmask.models.source_counting import ACTIVE_THRESHOLD_DB
    from asteroid_deepmask.utils.result_records import make_record, write_record

    if args.exp:
        args.model, args.record = os.path.join(args.exp, folder.MODEL), args.record or os.path.join(args.exp,
                                                                                                    folder.COUNTING)
        if os.path.isfile(args.record) and not args.force:
            print(f"{args.record} exists: counted before (--force counts again)")
            return

    model = DeepMaskEncoderMaskerDecoder.from_pretrained(args.model).eval()
    with open(os.path.join(args.manifests, "tt.json")) as f:
        rows = json.load(f)
    if not rows or not all(len(r.get("sources") or []) == 2 for r in rows):
        sys.exit(f"{args.manifests}/tt.json must list two sources for every mixture (a mini2mix test manifest).")
    thresholds = args.thresholds or [ACTIVE_THRESHOLD_DB]
    print(f"model {args.model} ({type(model).__name__}, P = {model.masker.n_outputs} outputs); "
          f"{len(rows)} test mixtures of {args.manifests}/tt.json\n")
    table = counting_rows(lambda wav, threshold: model.count_sources(torch.from_numpy(wav), threshold),
                          mixtures_by_voices(rows), thresholds)
    print("| voices | mixtures | threshold (dB) | counted right | counts (count: mixtures) |\n|---|---|---|---|---|")
    for r in table:
        spread = ", ".join(f"{c}: {n}" for c, n in r["counts"].items())
        right = "-" if r["counted_right"] is None else f"{r['counted_right']:.0%}"
        print(f"| {r['voices']} | {r['mixtures']} | {r['threshold_db']:g} | {right} | {spread} |")
    if args.record:
        write_record(args.record, make_record("count_mini", table, model=args.model,
                                              test_manifest=os.path.join(args.manifests, "tt.json"),
                                              default_threshold_db=ACTIVE_THRESHOLD_DB))
        print(f"\nrecord written to {args.record}")


if __name__ == "__main__":
    main()
