"""Separating a 10-minute file in windows against a one-shot forward of the same model on a
1-minute file: CPU time and peak memory, printed as ratios.

The model is the paper's DPRNN baseline (``hparams/wsj0-2mix/baseline.yaml``, untrained
weights: speed and memory do not depend on them). The 10-minute file goes through
``asteroid_deepmask.separate.separate_file`` (8 s windows, 1 s overlap, outputs written to a
temporary folder as they are final); the 1-minute file through one ``model(wav)`` call. Each
runs once in a fresh process (peak memory is the max RSS above what the process held before).

    python benchmarks/bench_separate.py        # about 2 minutes on 2 cores
"""
import argparse
import json
import os
import tempfile
import time

from harness import peak_mib, run_worker


def worker(kind, minutes):
    import numpy as np
    import soundfile as sf
    import torch

    from asteroid_deepmask.hparams_io import hparams_dir, load_hparams
    from asteroid_deepmask.inference import TorchSeparator
    from asteroid_deepmask.models import build_model
    from asteroid_deepmask.separate import separate_file

    torch.manual_seed(0)
    model = build_model(load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", "baseline.yaml"))["model"]).eval()
    n = int(minutes * 60 * 8000)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "windowed":
            path = os.path.join(tmp, "long.wav")
            sf.write(path, 0.1 * np.random.default_rng(0).standard_normal(n).astype("float32"), 8000)

            def step():
                separate_file(TorchSeparator.from_model(model), path, tmp)

        else:
            wav = 0.1 * torch.randn(1, n)

            def step():
                with torch.no_grad():
                    model(wav)

        start = time.perf_counter()
        peak = peak_mib(step)
        return {"time_s": time.perf_counter() - start, "peak_mib": peak}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--short-minutes", type=float, default=1.0)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], float(args.worker[1]))))
        return
    long = run_worker(__file__, "windowed", args.long_minutes)
    short = run_worker(__file__, "one_shot", args.short_minutes)
    print("| run | time (s) | peak memory (MiB) |\n|---|---|---|")
    print(f"| {args.long_minutes:g} min file, windowed | {long['time_s']:.1f} | {long['peak_mib']:.0f} |")
    print(f"| {args.short_minutes:g} min file, one shot | {short['time_s']:.1f} | {short['peak_mib']:.0f} |")
    print(
        f"\nratios (windowed {args.long_minutes:g} min / one-shot {args.short_minutes:g} min): "
        f"time {long['time_s'] / short['time_s']:.2f}x for {args.long_minutes / args.short_minutes:g}x the audio, "
        f"peak memory {long['peak_mib'] / short['peak_mib']:.2f}x"
    )


if __name__ == "__main__":
    main()
