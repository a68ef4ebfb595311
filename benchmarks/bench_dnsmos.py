"""DNSMOS of one clip: speechmos's ``dnsmos.run`` against our scorer (``recipe/dnsmos_scorer.py``), timed
in one process, interleaved, printed as ratios, with the largest difference of their four scores.

Clips of 2, 3 and 4 s (repeated by DNSMOS to 16, 12 and 16 s: 7, 3 and 7 windows), 2.3 s (a length whose
frames do not repeat within the windows) and 12 s (3 windows, no repetition). Times are minima over
``--reps`` interleaved rounds (``benchmarks/harness.py``). ``--evaluation N`` also times the DNSMOS part of
a reference-free evaluation of N recordings of ``--eval-seconds`` at 8 kHz, ``--eval-outputs`` clips each
(the model's own time, which depends on the model, is not in it).

    python benchmarks/bench_dnsmos.py                    # about a minute on 2 cores
    python benchmarks/bench_dnsmos.py --evaluation 100   # the issue's 100-segment evaluation, a few minutes

``--record PATH`` writes a result record: a row per clip (``seconds``, ``speechmos_s``, ``ours_s``,
``speedup``, ``max_abs_diff``), and ``evaluation`` (``recordings``, ``seconds``, ``outputs``, ``time_s``).
"""
import os
import sys
import time

import numpy as np
from harness import benchmark_parser, interleaved_min_times, save_record

from asteroid_deepmask.recipe.dnsmos_scorer import DNSMOS_RATE, DNSMOS_SCORES, dnsmos_scorer

CLIP_SECONDS = (2, 3, 4, 2.3, 12)


def speech_like(seconds, seed, rate=DNSMOS_RATE):
    """Noise under a syllable-rate envelope with pauses, peak 0.5: the networks see something speech-like."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 4 * t) * np.sin(2 * np.pi * 0.3 * t + 1), 0, None)
    wav = envelope * (np.sin(2 * np.pi * 180 * t) + 0.3 * rng.standard_normal(t.size))
    wav += 0.01 * rng.standard_normal(t.size)
    return (0.5 * wav / np.abs(wav).max()).astype("float32")


def clip_rows(reps):
    from speechmos import dnsmos as speechmos_dnsmos

    scorer = dnsmos_scorer()
    rows = []
    print("| clip (s) | speechmos (s) | ours (s) | speed-up | largest score difference |\n|---|---|---|---|---|")
    for seconds in CLIP_SECONDS:
        clip = speech_like(seconds, seed=int(seconds * 10))
        theirs = speechmos_dnsmos.run(clip, sr=DNSMOS_RATE)
        ours = scorer(clip)
        diff = max(abs(ours[name] - float(theirs[f"{name}_mos"])) for name in DNSMOS_SCORES)
        times = interleaved_min_times({"speechmos": lambda: speechmos_dnsmos.run(clip, sr=DNSMOS_RATE),
                                       "ours": lambda: scorer(clip)}, reps)
        speedup = times["speechmos"] / times["ours"]
        print(f"| {seconds:g} | {times['speechmos']:.3f} | {times['ours']:.3f} | {speedup:.1f}x | {diff:.1e} |")
        rows.append(dict(seconds=seconds, speechmos_s=times["speechmos"], ours_s=times["ours"], speedup=speedup,
                         max_abs_diff=diff))
    return rows


def evaluation_row(n_recordings, seconds, outputs):
    """The DNSMOS part of a reference-free evaluation: ``outputs`` clips of ``seconds`` at 8 kHz per recording
    through ``reference_free.dnsmos`` (resampled to 16 kHz), as ``evaluate_reference_free`` scores them; the
    model's own time is not in it (it depends on the model)."""
    from asteroid_deepmask.recipe.reference_free import dnsmos

    rate = 8000
    clips = [speech_like(seconds, seed=i, rate=rate) for i in range(n_recordings * outputs)]
    start = time.perf_counter()
    for clip in clips:
        dnsmos(clip, rate)
    elapsed = time.perf_counter() - start
    print(f"\nDNSMOS of a reference-free evaluation, {n_recordings} recordings of {seconds:g} s x {outputs} outputs: "
          f"{elapsed:.1f} s")
    return dict(recordings=n_recordings, seconds=seconds, outputs=outputs, time_s=elapsed)


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--evaluation", type=int, default=0, metavar="N",
                        help="also time a reference-free evaluation of N recordings (0: none)")
    parser.add_argument("--eval-seconds", type=float, default=3.0)
    parser.add_argument("--eval-outputs", type=int, default=3, help="clips scored per recording (default 3: two "
                        "active outputs and the mixture)")
    args = parser.parse_args()
    import onnxruntime

    print(f"onnxruntime {onnxruntime.__version__}, {os.cpu_count()} CPUs\n", file=sys.stderr)
    rows = clip_rows(args.reps)
    evaluation = evaluation_row(args.evaluation, args.eval_seconds, args.eval_outputs) if args.evaluation else None
    targets = ("targets: >= 5x faster than speechmos on 2-4 s clips, every score within 1e-3 of its; "
               "a 100-segment reference-free evaluation in <= 3 minutes on 2 cores")
    print("\n" + targets)
    save_record(args.record, "bench_dnsmos", rows, evaluation=evaluation, targets=[targets])


if __name__ == "__main__":
    main()
