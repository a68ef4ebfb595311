"""Our MixITWrapper against Asteroid's MixITLossWrapper, forward + backward, in one run.

Batch 4, 4 s at 8 kHz, K = 2 references, negative SNR, ``generalized=True`` (all 2^P
assignments, exhaustive in both). P = 4, 8 and 12 for both; P = 16 for ours alone (Asteroid
would loop over 65,536 partitions). Times are the minimum over ``--reps`` after one warm-up
call; the targets are those of the MixIT issue.

    python benchmarks/bench_mixit.py          # about 2 minutes on 2 cores
"""
import argparse
import time

import torch
from asteroid.losses import MixITLossWrapper, multisrc_neg_snr

from asteroid_deepmask import MixITWrapper


def fwd_bwd_time(wrapper, n_outputs, reps, n_samples):
    torch.manual_seed(0)
    est = torch.randn(4, n_outputs, n_samples, requires_grad=True)
    refs = torch.randn(4, 2, n_samples)

    def step():
        est.grad = None
        wrapper(est, refs).backward()

    step()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    n = int(args.seconds * 8000)
    ours = MixITWrapper("neg_snr", generalized=True)
    theirs = MixITLossWrapper(multisrc_neg_snr, generalized=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch 4 x {args.seconds:g} s, K = 2\n")
    print("| P | assignments | Asteroid (s) | ours (s) | speed-up |\n|---|---|---|---|---|")
    for p in (4, 8, 12, 16):
        mine = fwd_bwd_time(ours, p, args.reps, n)
        if p <= 12:
            ref = fwd_bwd_time(theirs, p, args.reps, n)
            print(f"| {p} | {2 ** p} | {ref:.3f} | {mine:.3f} | {ref / mine:.0f}x |")
        else:
            print(f"| {p} | {2 ** p} | - | {mine:.3f} | - |")
    print("\ntargets: >= 50x faster than Asteroid at P = 8; P = 16 exhaustive in under 1 s")


if __name__ == "__main__":
    main()
