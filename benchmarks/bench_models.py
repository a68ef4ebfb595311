"""CPU speed and peak memory of our DPRNN models against Asteroid's DPRNNTasNet, in one run.

Models (the paper's configuration: N = 64, kernel 16, bottleneck 64, 6 blocks, 128 units):
Asteroid's ``DPRNNTasNet`` (bn_chan 64, ReLU masks) and our baseline, MLP (L) and P = 16 from
``hparams/wsj0-2mix``. Tasks: separating 4 s of 8 kHz audio (batch 1, no gradient) and one
training step (batch 4 x 4 s: forward, negative SNR, backward, Adam step).

Times and peak memory are measured as ``benchmarks/harness.py`` describes (minimum over
``--reps`` interleaved training steps, or ``--separate-reps`` separations, in one process; peak
RSS of one step in a fresh process). A separation takes about 0.2 s and a training step about
4 s, so separations get more repetitions by default.
The LSTM kernels alone vary by 10-20 % from one step to the next on a shared 2-core machine.
Each target ratio is given two ways: the ratio of the two minima, and the median over rounds of
the ratio of the two times of one round (the models of a round run back to back, so a slow
spell of the machine mostly falls on both). ``--runs N`` repeats the timing in N fresh
processes and gives both ratios of each run, their median and spread (max - min); the main
tables give the minimum over all runs.

    python benchmarks/bench_models.py                      # about 6 minutes on 2 cores
    python benchmarks/bench_models.py --separate-reps 5 --tasks separate   # a quick look
    python benchmarks/bench_models.py --reps 20 --runs 2   # what the README shows: about 20 minutes

``--record PATH`` writes a result record (``benchmarks/harness.py``): a row per task and model
(``time_s``, ``peak_mib``), ``ratios`` (the target ratios, both ways) and ``runs`` (each run's minima and
round times, in s).
"""
import json
import os
import statistics
import time

from harness import benchmark_parser, interleaved_min_times, peak_mib, run_worker, save_record, separate_step

MODELS = ["asteroid_dprnn", "baseline", "mlp_l", "p16_relu"]
LABELS = {
    "asteroid_dprnn": "Asteroid DPRNNTasNet",
    "baseline": "ours: baseline",
    "mlp_l": "ours: MLP (L)",
    "p16_relu": "ours: P = 16",
}
# (model, reference, target ratio): the targets of the core issue.
TARGETS = [("baseline", "asteroid_dprnn", 1.00), ("mlp_l", "baseline", 1.03), ("p16_relu", "baseline", 1.05)]


def build(name):
    import torch  # noqa: F401  (imported before asteroid to keep start-up order fixed)

    if name == "asteroid_dprnn":
        from asteroid.models import DPRNNTasNet

        return DPRNNTasNet(
            n_src=2, bn_chan=64, hid_size=128, chunk_size=100, hop_size=50, n_repeats=6,
            mask_act="relu", kernel_size=16, n_filters=64, stride=8, sample_rate=8000,
        )
    from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
    from asteroid_deepmask.models import build_model

    return build_model(load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", f"{name}.yaml"))["model"])


def make_step(model, task, seconds):
    """A closure that runs ``task`` once on ``model``."""
    import torch

    n = int(seconds * 8000)
    if task == "separate":
        return separate_step(model, n)
    model.train()
    mix, refs = torch.randn(4, n), torch.randn(4, 2, n)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        est = model(mix)
        snr = 10 * torch.log10(refs.pow(2).sum(-1) / ((refs - est).pow(2).sum(-1) + 1e-8) + 1e-8)
        opt.zero_grad()
        (-snr.mean()).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    return step


def recorded(step, times):
    """``step`` that also appends the duration of each call to ``times``."""

    def timed():
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)

    return timed


def time_worker(task, reps, seconds):
    """Minimum time of each model and its time in each round (the harness's rotating order)."""
    import torch

    torch.manual_seed(0)
    rounds = {m: [] for m in MODELS}
    mins = interleaved_min_times({m: recorded(make_step(build(m), task, seconds), rounds[m]) for m in MODELS}, reps)
    return {"min": mins, "rounds": {m: t[1:] for m, t in rounds.items()}}  # t[0]: the warm-up


def ratios(run, model, ref):
    """``(ratio of the minima, median over rounds of the ratio within a round)`` of one timing run."""
    paired = [a / b for a, b in zip(run["rounds"][model], run["rounds"][ref])]
    return run["min"][model] / run["min"][ref], statistics.median(paired)


def memory_worker(name, task, seconds):
    return peak_mib(make_step(build(name), task, seconds))


def main():
    parser = benchmark_parser(__doc__, worker_nargs="+")
    parser.add_argument("--tasks", nargs="+", default=["separate", "train_step"], choices=["separate", "train_step"])
    parser.add_argument("--reps", type=int, default=5, help="timed training steps of each model")
    parser.add_argument("--separate-reps", type=int, default=40, help="timed separations of each model")
    parser.add_argument("--runs", type=int, default=1, help="timing processes, one after the other")
    parser.add_argument("--seconds", type=float, default=4.0, help="clip length (s) at 8 kHz")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "time":
            print(json.dumps(time_worker(rest[0], int(rest[1]), float(rest[2]))))
        else:
            print(json.dumps(memory_worker(rest[0], rest[1], float(rest[2]))))
        return

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    results, ratio_rows = {}, []
    for task in args.tasks:
        reps = args.separate_reps if task == "separate" else args.reps
        runs = [run_worker(__file__, "time", task, reps, args.seconds) for _ in range(args.runs)]
        results[task] = {
            m: {
                "time_s": min(run["min"][m] for run in runs),
                "run_times_s": [run["min"][m] for run in runs],
                "round_times_s": [run["rounds"][m] for run in runs],
                "peak_mib": run_worker(__file__, "memory", m, task, args.seconds),
            }
            for m in MODELS
        }
        batch = "1 x" if task == "separate" else "4 x"
        print(f"\n## {task} ({batch} {args.seconds:g} s, 8 kHz)\n")
        print("| model | time (s) | peak memory (MiB) |\n|---|---|---|")
        for m in MODELS:
            res = results[task][m]
            print(f"| {LABELS[m]} | {res['time_s']:.3f} | {res['peak_mib']:.0f} |")
        print("\n| ratio | time (minima) | time (median of rounds) | peak memory | time target |")
        print("|---|---|---|---|---|")
        for model, ref, target in TARGETS:
            a, b = results[task][model], results[task][ref]
            t_ratio = a["time_s"] / b["time_s"]
            per_run = [ratios(run, model, ref) for run in runs]
            paired = statistics.median(r for _, r in per_run)
            m_ratio = a["peak_mib"] / b["peak_mib"] if b["peak_mib"] > 0 else float("nan")
            a[f"ratios_to_{ref}"] = {"minima": t_ratio, "median_of_rounds": paired, "per_run": per_run}
            verdict = "met" if t_ratio <= target else "MISSED"
            ratio_rows.append(dict(task=task, model=model, reference=ref, time_ratio_minima=t_ratio,
                                   time_ratio_median_of_rounds=paired, memory_ratio=m_ratio, target_ratio=target,
                                   met=t_ratio <= target))
            print(f"| {LABELS[model]} / {LABELS[ref]} | {t_ratio:.3f}x | {paired:.3f}x | {m_ratio:.3f}x "
                  f"| <= {target:.2f}x {verdict} |")
        if args.runs > 1:
            print(f"\n| time ratio in each of {args.runs} runs (minima / median of rounds) | median | spread |")
            print("|---|---|---|")
            for model, ref, _ in TARGETS:
                per_run = results[task][model][f"ratios_to_{ref}"]["per_run"]
                cells = ", ".join(f"{m:.3f} / {r:.3f}" for m, r in per_run)
                mins, meds = [m for m, _ in per_run], [r for _, r in per_run]
                print(f"| {LABELS[model]} / {LABELS[ref]}: {cells} | {statistics.median(mins):.3f} / "
                      f"{statistics.median(meds):.3f} | {max(mins) - min(mins):.3f} / {max(meds) - min(meds):.3f} |")
    rows = [dict(task=task, model=m, label=LABELS[m], time_s=res["time_s"], peak_mib=res["peak_mib"])
            for task, models in results.items() for m, res in models.items()]
    runs = {f"{task}/{m}": {"run_times_s": res["run_times_s"], "round_times_s": res["round_times_s"]}
            for task, models in results.items() for m, res in models.items()}
    save_record(args.record, "bench_models", rows, ratios=ratio_rows, runs=runs, audio_s=args.seconds,
                reps=args.reps, separate_reps=args.separate_reps)


if __name__ == "__main__":
    main()
