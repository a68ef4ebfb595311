"""int8 against float32 on a trained experiment's test set: how far the sources move, and the SI-SDRi change.

Each test mixture of ``--manifests`` (``tt.json``) is separated by the experiment's best model in
float32 (torch), in torch dynamic int8 (``--precision int8``) and by its int8 ONNX export
(``export --quantize int8``, ONNX Runtime), and by the same three ways of an untrained copy
(the experiment's architecture, seeded). Agreement: SI-SDR (dB) of an int8 way's sources against
float32's, mean over mixtures and sources. SI-SDRi: the trained model's, as ``recipe evaluate``
scores it (best permutation), mean over the test set; the change is int8 minus float32.

    python benchmarks/bench_int8_accuracy.py --exp exp/mini2mix/dprnn_mlp --manifests data/mini2mix/manifests

``--record PATH`` writes the table's rows (``agreement_db``, ``si_sdri_db``, ``change_db``) and the target lines
as a result record (``benchmarks/harness.py``).
"""
import os
import tempfile

import numpy as np
from harness import benchmark_parser, save_record

WAYS = {"float32": "torch float32", "int8": "torch dynamic int8", "onnx_int8": "ONNX Runtime int8"}
# The quantization issue's targets on the trained model: least agreement (dB), largest SI-SDRi change (dB).
AGREEMENT_DB, SI_SDRI_CHANGE_DB = 30.0, 0.1


def si_sdr_db(reference, estimate):
    ref, est = np.asarray(reference, dtype=float), np.asarray(estimate, dtype=float)
    target = ref * (est * ref).sum(-1, keepdims=True) / (ref * ref).sum(-1, keepdims=True)
    return float(np.mean(10 * np.log10((target ** 2).sum(-1) / ((est - target) ** 2).sum(-1))))


def separators(model, folder):
    from asteroid_deepmask.deployment.separators import load_separator

    path = model.export(os.path.join(folder, f"{id(model)}_int8.onnx"), quantize="int8")
    return {"float32": load_separator(model), "int8": load_separator(model, precision="int8"),
            "onnx_int8": load_separator(path)}


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--exp", required=True, help="experiment folder with best_model.pth and hparams.yaml")
    parser.add_argument("--manifests", required=True, help="folder of the test manifest tt.json")
    parser.add_argument("--limit", type=int, help="score only the first N test mixtures")
    args = parser.parse_args()
    import torch

    from asteroid_deepmask.experiment.hparams import load_hparams
    from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder, build_model
    from asteroid_deepmask.recipe.evaluation import utterance_metrics
    from asteroid_deepmask.data import ManifestDataset, manifest_path

    torch.set_num_threads(1)
    trained = DeepMaskEncoderMaskerDecoder.from_pretrained(os.path.join(args.exp, "best_model.pth")).eval()
    torch.manual_seed(0)
    untrained = build_model(load_hparams(os.path.join(args.exp, "hparams.yaml"))["model"]).eval()
    test = ManifestDataset(manifest_path(args.manifests, "tt"))
    count = min(len(test), args.limit or len(test))
    agreement = {(m, w): [] for m in ("trained", "untrained") for w in WAYS if w != "float32"}
    si_sdri = {w: [] for w in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        seps = {"trained": separators(trained, folder), "untrained": separators(untrained, folder)}
        rate = int(trained.sample_rate)
        for i in range(count):
            mix, sources = test[i]
            batch = torch.as_tensor(mix, dtype=torch.float32)[None]
            for name, ways in seps.items():
                outputs = {w: sep(batch)[0].double().numpy() for w, sep in ways.items()}
                for way, out in outputs.items():
                    if way != "float32":
                        agreement[name, way].append(si_sdr_db(outputs["float32"], out))
                    if name == "trained":
                        row = utterance_metrics(np.asarray(mix, float), np.asarray(sources, float), out, rate,
                                                ("si_sdr",))
                        si_sdri[way].append(row["si_sdri"])
    print(f"{count} test mixtures of {manifest_path(args.manifests, 'tt')}; model {args.exp}/best_model.pth "
          f"({type(trained).__name__}); torch {torch.__version__}, 1 thread\n")
    print("| model | way | SI-SDR to float32 (dB) | SI-SDRi (dB) | change vs float32 (dB) |\n|---|---|---|---|---|")
    base = float(np.mean(si_sdri["float32"]))
    rows = []
    for name in ("trained", "untrained"):
        for way in WAYS:
            trained = name == "trained"
            rows.append(dict(model=name, way=way,
                             agreement_db=None if way == "float32" else float(np.mean(agreement[name, way])),
                             si_sdri_db=float(np.mean(si_sdri[way])) if trained else None,
                             change_db=float(np.mean(si_sdri[way])) - base if trained and way != "float32" else None))
    for r in rows:
        agree = "(reference)" if r["way"] == "float32" else f"{r['agreement_db']:.1f}"
        score = "-" if r["si_sdri_db"] is None else f"{r['si_sdri_db']:.2f}"
        change = "-" if r["change_db"] is None else f"{r['change_db']:+.3f}"
        print(f"| {r['model']} | {WAYS[r['way']]} | {agree} | {score} | {change} |")
    print()
    targets = []
    for way in ("int8", "onnx_int8"):
        row = next(r for r in rows if r["model"] == "trained" and r["way"] == way)
        agree, change = row["agreement_db"], row["change_db"]
        ok = agree >= AGREEMENT_DB and abs(change) <= SI_SDRI_CHANGE_DB
        targets.append(f"target {WAYS[way]}, trained model: >= {AGREEMENT_DB:g} dB agreement, SI-SDRi within "
                       f"{SI_SDRI_CHANGE_DB:g} dB: measured {agree:.1f} dB, {change:+.3f} dB ({'met' if ok else 'NOT met'})")
    print("\n".join(targets))
    save_record(args.record, "bench_int8_accuracy", rows, targets=targets, test_mixtures=count,
                experiment=os.path.normpath(args.exp))


if __name__ == "__main__":
    main()
