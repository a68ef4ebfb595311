"""Our MixITWrapper against Asteroid's MixITLossWrapper with Asteroid's loss callables, forward +
backward, in one run, printed as ratios.

Both wrappers get the same callable: Asteroid losses that ours maps to its Gram path, and two it
scores on remixed waveforms (an L1 loss, and ``multisrc_neg_sisdr`` hidden in a lambda). Asteroid's
wrapper calls the loss once per assignment and keeps every assignment's graph for the backward
pass, so its time and memory grow as 2^P (21 GiB at P = 12 on 4 s inputs): it runs at P = 8 only
(256 assignments, K = 2, ``generalized=True``) on a batch of 4 x 1 s at 8 kHz, and a watchdog
stops the script when the process holds more than ``--max-rss-gib``. Times are minima over
``--reps`` interleaved rounds (``benchmarks/harness.py``). Then ours alone from P = 4 to 16.

    python benchmarks/bench_mixit.py          # about 20 s on 2 cores

``--record PATH`` writes a result record (``benchmarks/harness.py``): a row per loss at P = 8
(``asteroid_ms``, ``ours_ms``, ``speedup``) and ``scaling``, ours alone by P (``gram_ms``, ``waveforms_ms``).
"""
import os
import sys
import threading
import time

import torch
from asteroid.losses import MixITLossWrapper, multisrc_mse, multisrc_neg_sisdr, multisrc_neg_snr
from harness import benchmark_parser, interleaved_min_times, save_record

from asteroid_deepmask import MixITWrapper

BATCH, N_REFS, RATE = 4, 2, 8000


def l1_loss(est, refs):
    return (est - refs).abs().mean((1, 2))


LOSSES = {  # label -> the callable both wrappers get
    "multisrc_neg_sisdr": multisrc_neg_sisdr,
    "multisrc_neg_snr": multisrc_neg_snr,
    "multisrc_mse": multisrc_mse,
    "L1 (a function)": l1_loss,
    "lambda: multisrc_neg_sisdr": lambda est, refs: multisrc_neg_sisdr(est, refs),
}


def watch_rss(limit_gib):
    """Stop the process when its resident memory passes ``limit_gib`` (Linux; elsewhere no-op)."""
    if not os.path.exists("/proc/self/statm"):
        return
    page = os.sysconf("SC_PAGE_SIZE")

    def watch():
        while True:
            with open("/proc/self/statm") as statm:
                rss = int(statm.read().split()[1]) * page
            if rss > limit_gib * 2**30:
                print(f"\nstopped: {rss / 2**30:.1f} GiB resident > --max-rss-gib {limit_gib}", file=sys.stderr)
                os._exit(3)
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def fwd_bwd_step(wrapper, n_outputs, n_samples):
    """A closure running ``wrapper`` forward and backward on fixed random estimates."""
    generator = torch.Generator().manual_seed(0)
    est = torch.randn(BATCH, n_outputs, n_samples, generator=generator).requires_grad_()
    refs = torch.randn(BATCH, N_REFS, n_samples, generator=generator)

    def step():
        est.grad = None
        wrapper(est, refs).backward()

    return step


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--max-rss-gib", type=float, default=6.0)
    args = parser.parse_args()
    watch_rss(args.max_rss_gib)
    n_samples = int(args.seconds * RATE)
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {threads} threads; batch {BATCH} x {args.seconds:g} s at 8 kHz, K = {N_REFS}")

    print("\nP = 8 (256 assignments), generalized=True, forward + backward\n")
    steps = {}
    for label, loss in LOSSES.items():
        steps[label, "asteroid"] = fwd_bwd_step(MixITLossWrapper(loss, generalized=True), 8, n_samples)
        steps[label, "ours"] = fwd_bwd_step(MixITWrapper(loss, generalized=True), 8, n_samples)
    times = interleaved_min_times(steps, args.reps)
    print("| loss | ours scores it from | Asteroid (ms) | ours (ms) | speed-up |\n|---|---|---|---|---|")
    rows, by_p = [], []
    for label, loss in LOSSES.items():
        path = "waveforms" if MixITWrapper(loss).loss is None else "Gram matrices"
        theirs, mine = times[label, "asteroid"], times[label, "ours"]
        print(f"| {label} | {path} | {1e3 * theirs:.1f} | {1e3 * mine:.2f} | {theirs / mine:.0f}x |")
        rows.append(dict(loss=label, scored_from=path, asteroid_ms=1e3 * theirs, ours_ms=1e3 * mine,
                         speedup=theirs / mine))

    print("\nOurs alone, forward + backward (ms); Asteroid's wrapper would loop over every assignment\n")
    print("| P | assignments | multisrc_neg_snr | L1 (a function) |\n|---|---|---|---|")
    for p in (4, 8, 12, 16):
        scaling = {"gram": fwd_bwd_step(MixITWrapper(multisrc_neg_snr), p, n_samples)}
        if p <= 12:
            scaling["waveforms"] = fwd_bwd_step(MixITWrapper(l1_loss), p, n_samples)
        times = interleaved_min_times(scaling, max(1, args.reps // 2))
        waveform = f"{1e3 * times['waveforms']:.1f}" if "waveforms" in times else "-"
        print(f"| {p} | {2 ** p} | {1e3 * times['gram']:.1f} | {waveform} |")
        by_p.append(dict(p=p, assignments=2 ** p, gram_ms=1e3 * times["gram"],
                            waveforms_ms=1e3 * times["waveforms"] if "waveforms" in times else None))
    targets = "targets: >= 50x faster than Asteroid at P = 8 for the losses ours maps, >= 10x for other callables"
    print("\n" + targets)
    save_record(args.record, "bench_mixit", rows, scaling=by_p, targets=[targets], batch=BATCH,
                audio_s=args.seconds, threads=threads)


if __name__ == "__main__":
    main()
