"""Deployment backends on the CPU, in one run: torch float32, torch bfloat16 autocast, ONNX Runtime
and TorchScript, and dynamic int8 in torch and in ONNX Runtime, separating 4 s and 60 s of 8 kHz audio with the paper's baseline
and MLP (L), and the Conv-TasNet with the MLP (L) head.

Every backend runs through the same windowed path as ``asteroid-deepmask separate``
(:func:`asteroid_deepmask.deployment.long_files.separate_windows`, 8 s windows with 1 s overlap, batch 1):
4 s is one window, 60 s is nine. Models come from ``hparams/wsj0-2mix/{baseline,mlp_l,convtasnet_mlp_l}.yaml``
with seeded untrained weights (speed does not depend on them; agreement is measured on them).

- time: minimum over ``--reps`` repetitions, the backends interleaved in rotating order in one
  process (``benchmarks/harness.py``); ratio: torch float32 time / backend time (> 1: faster).
- peak memory: the highest resident memory (RSS, sampled every millisecond) during one
  separation, above the RSS just before it, in a fresh process per backend that has already
  loaded the model and run one warm-up separation of 1 s.
- agreement: SI-SDR (dB) of the backend's sources against torch float32's, mean over sources.

    python benchmarks/bench_export.py              # with the two DPRNNs only: 52 minutes on 2 idle AMD EPYC cores
                                                   # without bfloat16 kernels (bf16 then takes most of it); 7 where
                                                   # they exist; the Conv-TasNet adds to that
    python benchmarks/bench_export.py --reps 2 --seconds 4   # a quick look
    python benchmarks/bench_export.py --backends torch32 onnx int8 onnx_int8 --profile   # the int8 table: 17 minutes
    python benchmarks/bench_export.py --models baseline --seconds 4 --reps 3 --record docs/results/bench_export.json

``--record PATH`` writes the rows (``time_s``, ``speedup``, ``peak_mib``, ``agreement_db``), the target lines and,
with ``--profile``, the top operators of each model and backend at 4 s (``profile_rows``: ``model``, ``backend``,
``op``, ``ms`` per run, ``share``) as a result record (``benchmarks/harness.py``).
"""
import json
import os
import tempfile

from harness import (benchmark_parser, interleaved_min_times, onnx_op_ms, run_worker, sampled_peak_mib, save_record,
                     share_rows, top_shares, torch_op_ms)

MODELS = {"baseline": "paper baseline", "mlp_l": "MLP (L)", "convtasnet_mlp_l": "Conv-TasNet MLP (L)"}
BACKENDS = {"torch32": "torch float32", "bf16": "torch bf16 autocast", "onnx": "ONNX Runtime", "ts": "TorchScript",
            "int8": "torch dynamic int8", "onnx_int8": "ONNX Runtime int8"}
#: The exported file of each backend that runs one.
FILES = {"onnx": "model.onnx", "ts": "model.pt", "onnx_int8": "model_int8.onnx"}
WINDOW_S, OVERLAP_S = 8.0, 1.0
# The targets at 4 s: (model, backend, least speed-up, least agreement in dB): the export issue's for the baseline,
# and the live issue's ONNX Runtime int8 for the MLP (L) too.
TARGETS = [("baseline", "onnx", 1.3, None), ("baseline", "bf16", 1.4, 35.0), ("baseline", "int8", 2.0, 30.0),
           ("baseline", "onnx_int8", 2.0, 30.0), ("mlp_l", "onnx_int8", 2.0, 30.0)]


def build_model(name):
    import torch

    from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
    from asteroid_deepmask.models import build_model as build

    torch.manual_seed(0)
    return build(load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", f"{name}.yaml"))["model"]).eval()


def separator(backend, model, folder):
    from asteroid_deepmask.deployment.separators import load_separator, TorchSeparator

    if backend not in FILES:
        return TorchSeparator.from_model(model, precision={"torch32": "32"}.get(backend, backend))
    return load_separator(os.path.join(folder, FILES[backend]))


def export_all(folder, models, backends):
    for name in models:
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        model = build_model(name)
        for backend, file in FILES.items():
            if backend not in backends:
                continue
            model.export(os.path.join(folder, name, file), quantize="int8" if backend.endswith("int8") else None)


def mixture(seconds):
    import torch

    return 0.1 * torch.randn(int(seconds * 8000), generator=torch.Generator().manual_seed(1))


def separate_all(sep, wav):
    import torch

    from asteroid_deepmask.deployment.long_files import separate_windows

    return torch.cat(list(separate_windows(sep, wav, int(WINDOW_S * 8000), int(OVERLAP_S * 8000))), 1)


def si_sdr_db(reference, estimate):
    ref, est = reference.double(), estimate.double()
    target = ref * (est * ref).sum(-1, keepdim=True) / (ref * ref).sum(-1, keepdim=True)
    return (10 * ((target ** 2).sum(-1) / ((est - target) ** 2).sum(-1)).log10()).mean().item()


def worker(folder, name, backend, seconds):
    sep = separator(backend, build_model(name), os.path.join(folder, name))
    separate_all(sep, mixture(1.0))  # warm-up: lazy initialisation is not separation memory
    wav = mixture(seconds)
    return {"peak_mib": sampled_peak_mib(lambda: separate_all(sep, wav))}


def top_ops(backend, sep, wav, reps=3, count=6):
    """Share of time per operator over ``reps`` separations: ``[(op, ms per run, share)]``."""
    if backend.startswith("onnx"):
        feed = {sep.input_name: wav.unsqueeze(0).numpy()}
        times = onnx_op_ms(sep.path, lambda session: [session.run(None, feed) for _ in range(reps)],
                           sep.session.get_providers())
    else:
        sep(wav.unsqueeze(0))
        times = torch_op_ms(lambda: [sep(wav.unsqueeze(0)) for _ in range(reps)])
    return top_shares(times, reps, count)


def main():
    parser = benchmark_parser(__doc__, worker_nargs=4)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seconds", type=float, nargs="+", default=[4.0, 60.0])
    parser.add_argument("--no-memory", action="store_true", help="skip the fresh-process memory runs")
    parser.add_argument("--profile", action="store_true", help="also print where each model's 4 s run spends its time")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS),
                        help="torch float32 is always measured: it is the reference")
    args = parser.parse_args()
    if args.worker:
        folder, name, backend, seconds = args.worker
        print(json.dumps(worker(folder, name, backend, float(seconds))))
        return
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {os.cpu_count()} CPUs")
    backends = ["torch32", *(b for b in BACKENDS if b in args.backends and b != "torch32")]
    with tempfile.TemporaryDirectory() as folder:
        export_all(folder, args.models, backends)
        rows, checks, profiles = [], [], {}
        for name in args.models:
            seps = {b: separator(b, build_model(name), os.path.join(folder, name)) for b in backends}
            for seconds in args.seconds:
                wav = mixture(seconds)
                outputs = {b: separate_all(sep, wav) for b, sep in seps.items()}
                reps = args.reps if seconds <= WINDOW_S else max(2, args.reps // 2)
                times = interleaved_min_times({b: (lambda s=sep: separate_all(s, wav)) for b, sep in seps.items()}, reps)
                for backend in backends:
                    memory = None if args.no_memory else run_worker(__file__, folder, name, backend, seconds)["peak_mib"]
                    rows.append(dict(model=name, audio_s=seconds, backend=backend, time_s=times[backend],
                                     speedup=times["torch32"] / times[backend], peak_mib=memory,
                                     agreement_db=None if backend == "torch32"
                                     else si_sdr_db(outputs["torch32"], outputs[backend])))
            if args.profile:
                profiles.update({(name, b): top_ops(b, seps[b], mixture(4.0)) for b in backends if b != "ts"})
    print("\n| model | audio | backend | time (s) | speed-up vs torch float32 | peak memory (MiB) | SI-SDR to float32 (dB) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        memory = "-" if r["peak_mib"] is None else f"{r['peak_mib']:.0f}"
        agreement = "(reference)" if r["backend"] == "torch32" else f"{r['agreement_db']:.1f}"
        print(f"| {MODELS[r['model']]} | {r['audio_s']:g} s | {BACKENDS[r['backend']]} | {r['time_s']:.3f} | "
              f"{r['speedup']:.2f}x | {memory} | {agreement} |")
    for model, backend, speedup, agreement in TARGETS:
        row = next((r for r in rows if r["model"] == model and r["audio_s"] == 4.0 and r["backend"] == backend), None)
        if row is None:
            continue
        ok = row["speedup"] >= speedup and (agreement is None or row["agreement_db"] >= agreement)
        want = f">= {speedup}x" + (f", >= {agreement:g} dB" if agreement else "")
        checks.append(f"target {BACKENDS[backend]}, {MODELS[model]}, 4 s: {want}: measured {row['speedup']:.2f}x"
                      + (f", {row['agreement_db']:.1f} dB" if agreement else "") + (" (met)" if ok else " (NOT met)"))
    print("\n" + "\n".join(checks))
    for (name, backend), ops in profiles.items():
        print(f"\n{MODELS[name]}, 4 s, {BACKENDS[backend]}: " + ", ".join(f"{op} {ms:.0f} ms ({share:.0%})"
                                                                       for op, ms, share in ops))
    save_record(args.record, "bench_export", rows, targets=checks,
                profile_rows=[{"model": name, "backend": backend, **row}
                              for (name, backend), ops in profiles.items() for row in share_rows(ops)])


if __name__ == "__main__":
    main()
