"""CPU separation time and peak memory of the SIMO-SISO and sliced-attention maskers against our
DPRNN baseline at matched parameter count, for 4 s and 16 s inputs, printed as ratios.

* SIMO-SISO (2 + 4 blocks, ``hparams/wsj0-2mix/simo_siso.yaml``) against the paper's DPRNN
  baseline (6 blocks): both about 2.6 M parameters.
* Sliced attention on the STFT filterbank (``sliced_attention_stft.yaml``; Sams-Net is a
  spectrogram model), with the paper's 12 slices (slice length follows the input) and with a
  fixed slice length (the 4 s input's, 42 frames), against a DPRNN whose LSTM width is chosen
  to match its parameter count.

Times and memory are measured as ``benchmarks/harness.py`` describes.

    python benchmarks/bench_maskers.py        # about 3 minutes on 2 cores

``--record PATH`` writes a result record (``benchmarks/harness.py``): a row per model and length
(``params_m``, ``audio_s``, ``time_s``, ``peak_mib``) and ``ratios`` (``time_ratio``, ``memory_ratio``).
"""
import json
import os

from harness import benchmark_parser, interleaved_min_times, peak_mib, run_worker, save_record, separate_step

MODELS = ["dprnn", "simo_siso", "dprnn_small", "sliced_12", "sliced_fixed"]
LABELS = {
    "dprnn": "DPRNN baseline",
    "simo_siso": "SIMO-SISO 2+4",
    "dprnn_small": "DPRNN, matched to sliced attention",
    "sliced_12": "sliced attention, 12 slices",
    "sliced_fixed": "sliced attention, 42-frame slices",
}
RATIOS = [("simo_siso", "dprnn"), ("sliced_12", "dprnn_small"), ("sliced_fixed", "dprnn_small")]


def _hparams(name, overrides=()):
    from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams

    return load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", f"{name}.yaml"), overrides)["model"]


def build(name):
    from asteroid_deepmask.models import build_model

    if name == "dprnn":
        return build_model(_hparams("baseline"))
    if name == "simo_siso":
        return build_model(_hparams("simo_siso"))
    if name == "sliced_12":
        return build_model(_hparams("sliced_attention_stft"))
    if name == "sliced_fixed":
        return build_model(_hparams("sliced_attention_stft", ["model.n_slices=null", "model.slice_len=42"]))
    target = sum(p.numel() for p in build("sliced_12").parameters())
    candidates = [build_model(_hparams("baseline", [f"model.hid_size={h}"])) for h in range(4, 65, 2)]
    return min(candidates, key=lambda m: abs(sum(p.numel() for p in m.parameters()) - target))


def main():
    parser = benchmark_parser(__doc__, worker_nargs="+")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--lengths", type=float, nargs="+", default=[4.0, 16.0], help="seconds at 8 kHz")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "time":
            import torch

            torch.manual_seed(0)
            n = int(float(rest[1]) * 8000)
            steps = {m: separate_step(build(m), n) for m in MODELS}
            print(json.dumps(interleaved_min_times(steps, int(rest[0]))))
        elif kind == "params":
            print(json.dumps({m: sum(p.numel() for p in build(m).parameters()) for m in MODELS}))
        else:
            print(json.dumps(peak_mib(separate_step(build(rest[0]), int(float(rest[1]) * 8000)))))
        return

    params = run_worker(__file__, "params")
    results = {}
    for seconds in args.lengths:
        times = run_worker(__file__, "time", args.reps, seconds)
        results[seconds] = {m: (times[m], run_worker(__file__, "memory", m, seconds)) for m in MODELS}
    header = " | ".join(f"{s:g} s time (s) | {s:g} s peak (MiB)" for s in args.lengths)
    print(f"| model | params (M) | {header} |\n|---|---|" + "---|---|" * len(args.lengths))
    for m in MODELS:
        cells = " | ".join(f"{results[s][m][0]:.3f} | {results[s][m][1]:.0f}" for s in args.lengths)
        print(f"| {LABELS[m]} | {params[m] / 1e6:.3f} | {cells} |")
    header = " | ".join(f"{s:g} s time | {s:g} s memory" for s in args.lengths)
    print(f"\n| ratio | {header} |\n|---|" + "---|---|" * len(args.lengths))
    for model, ref in RATIOS:
        cells = " | ".join(
            f"{results[s][model][0] / results[s][ref][0]:.2f}x | {results[s][model][1] / results[s][ref][1]:.2f}x"
            for s in args.lengths
        )
        print(f"| {LABELS[model]} / {LABELS[ref]} | {cells} |")
    if len(args.lengths) >= 2:
        a, b = args.lengths[0], args.lengths[-1]
        print(f"\npeak memory growth from {a:g} s to {b:g} s ({b / a:g}x longer input):")
        for m in MODELS:
            print(f"- {LABELS[m]}: {results[b][m][1] / results[a][m][1]:.2f}x")
    rows = [dict(model=m, label=LABELS[m], params_m=params[m] / 1e6, audio_s=s, time_s=results[s][m][0],
                 peak_mib=results[s][m][1]) for s in args.lengths for m in MODELS]
    ratios = [dict(model=model, reference=ref, audio_s=s, time_ratio=results[s][model][0] / results[s][ref][0],
                   memory_ratio=results[s][model][1] / results[s][ref][1] if results[s][ref][1] else None)
              for s in args.lengths for model, ref in RATIOS]
    save_record(args.record, "bench_maskers", rows, ratios=ratios, reps=args.reps)


if __name__ == "__main__":
    main()
