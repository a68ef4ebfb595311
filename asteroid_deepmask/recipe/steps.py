"""The steps of the recipes in ``egs/`` (each ``run.sh`` stage calls one)::

    python -m asteroid_deepmask.recipe mini2mix   --out DIR [--mixtures TR CV TT]
    python -m asteroid_deepmask.recipe wsj0mix    --wsj0 DIR --out DIR [--n-src 2] [--mix-lists DIR]
    python -m asteroid_deepmask.recipe whamr      --wsj0 DIR --wham-noise DIR --out DIR [--scripts DIR] [--python PY]
                                                  [--sample-rates 8000 16000] [--modes min max] [--jobs N]
    python -m asteroid_deepmask.recipe librimix   --librispeech DIR --wham-noise DIR --out DIR --hparams FILE
    python -m asteroid_deepmask.recipe manifests  --corpus DIR --hparams FILE --out DIR
    python -m asteroid_deepmask.recipe unlabeled  --audio DIR --out DIR (--sample-rate SR --segment S | --hparams FILE)
                                                  [--valid-share 0.1] [--channel N] [--silence-db -40] [--seed 0]
    python -m asteroid_deepmask.recipe test-manifest --folder DIR --out DIR [--force]
    python -m asteroid_deepmask.recipe train      --hparams FILE --manifests DIR --exp EXP [--set k=v ...] [--force]
                                                  [--supervised-manifests DIR]
    python -m asteroid_deepmask.recipe evaluate   --manifests DIR --exp EXP --dataset NAME [--metrics ...] [--force]
                                                  [--model FILE] [--precision 32|bf16|int8] [--out DIR] [--reference-free]
    python -m asteroid_deepmask.recipe evaluate-mixit --manifests DIR --exp EXP [--test-manifests DIR --dataset NAME]
                                                  [--metrics ...] [--limit N] [--force]
    python -m asteroid_deepmask.recipe package    --exp EXP
    python -m asteroid_deepmask.recipe compare    --exps EXP [EXP ...] [--out FILE] [--record FILE [--name NAME] [--command CMD]]
    python -m asteroid_deepmask.recipe record     --exp EXP --name NAME --wall-s S --command CMD [--out FILE]

Every step refuses to overwrite what it did not create in this run and skips work already done
(``--force`` starts it over, removing what it made before: :mod:`~asteroid_deepmask.experiment.folder`
for an experiment folder); training resumes from the experiment's last checkpoint.

This module only reads the command line: each step is a call into ``data``, ``training``,
``evaluation``, ``publishing`` or ``comparison``.
"""
import argparse
import json
import os

from .comparison import comparison_rows, rows_markdown, rows_records
from ..data import make_mini2mix, manifest_path, write_manifests, write_unlabeled_manifests
from ..data.manifests import write_test_manifest
from ..data.librimix import corpus_plan, generate_librimix
from ..data.whamr import check_whamr_inputs, fetch_scripts, make_whamr
from ..data.whamr.mixing import MODES as WHAMR_MODES, RATES as WHAMR_RATES, make_whamr_corpus
from ..data.wsj0mix import check_wsj0_root, download_mix_lists, make_wsj0mix
from ..deployment.separators import PRECISIONS
from .evaluation import METRICS, evaluate_experiment
from .reference_free import REFERENCE_FREE_METRICS, evaluate_reference_free
from ..experiment import folder
from ..experiment.hparams import load_hparams
from .publishing import package_experiment
from .result_files import write_run_record
from ..utils.library_noise import library_warnings_ignored


def _at_least_one(text):
    """argparse type of counts such as ``--limit`` and ``--jobs``: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def _parser():
    parser = argparse.ArgumentParser(prog="python -m asteroid_deepmask.recipe", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("mini2mix", help="synthesise the mini2mix corpus")
    p.add_argument("--out", required=True)
    p.add_argument("--mixtures", type=int, nargs=3, default=[200, 50, 50], metavar=("TR", "CV", "TT"))
    p = sub.add_parser("wsj0mix", help="generate wsj0-2mix or wsj0-3mix from WSJ0 and MERL's mix lists")
    p.add_argument("--wsj0", required=True, help="the folder that holds wsj0/ (converted to wav)")
    p.add_argument("--mix-lists", default="", help="folder with mix_N_spk_{tr,cv,tt}.txt; empty: download MERL's")
    p.add_argument("--download-to", default="data/downloads", help="where the mix lists are downloaded")
    p.add_argument("--out", required=True)
    p.add_argument("--n-src", type=int, default=2)
    p.add_argument("--sample-rates", type=int, nargs="+", default=[8000])
    p.add_argument("--modes", nargs="+", default=["min"])
    p.add_argument("--active-levels", default="", help="folder of precomputed active levels (optional)")
    p.add_argument("--limit", type=_at_least_one, default=None, help="first N mixtures of each list only")
    p = sub.add_parser("whamr", help="make WHAMR! from its official metadata (or with the official scripts: --python)")
    p.add_argument("--wsj0", required=True)
    p.add_argument("--wham-noise", required=True)
    p.add_argument("--scripts", default="", help="unpacked whamr_scripts folder (its metadata); empty: download it")
    p.add_argument("--python", default="", help="run the official scripts in this interpreter's environment "
                   "(pyroomacoustics 0.3.1) instead of making the corpus here")
    p.add_argument("--sample-rates", type=int, nargs="+", default=[8000], choices=list(WHAMR_RATES),
                   help="without --python (the official scripts write both)")
    p.add_argument("--modes", nargs="+", default=["min"], choices=list(WHAMR_MODES),
                   help="without --python (the official scripts write both)")
    p.add_argument("--limit", type=_at_least_one, default=None, help="first N mixtures of each split (without --python)")
    p.add_argument("--jobs", type=_at_least_one, default=os.cpu_count(), help="processes making mixtures (without --python)")
    p.add_argument("--download-to", default="data/downloads")
    p.add_argument("--out", required=True)
    p = sub.add_parser("librimix", help="generate Libri2Mix or Libri3Mix from LibriSpeech, the WHAM! noise and "
                       "the official metadata, in the parts an experiment needs")
    p.add_argument("--librispeech", required=True, help="the LibriSpeech folder (train-clean-360/, dev-clean/, ...)")
    p.add_argument("--wham-noise", required=True, help="the unpacked WHAM! noise folder (tr/, cv/, tt/)")
    p.add_argument("--librimix-metadata", default="", help="folder of the official libri{2,3}mix_*.csv; empty: "
                   "downloaded ($LIBRIMIX_METADATA_URL or the LibriMix repository)")
    p.add_argument("--download", action="store_true", help="download the missing LibriSpeech subsets and WHAM! noise")
    p.add_argument("--out", required=True, help="the corpus folder (Libri2Mix/)")
    p.add_argument("--hparams", required=True, help="experiment file; its data section says which parts to make")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--sample-rates", type=int, nargs="*", help="8000 and/or 16000 (default: the experiment's)")
    p.add_argument("--modes", nargs="*", help="min and/or max (default: the experiment's)")
    p.add_argument("--subsets", nargs="*", help="among train-360 train-100 dev test (default: the experiment's)")
    p.add_argument("--types", nargs="*", help="among mix_clean mix_both mix_single (default: the task's)")
    p.add_argument("--jobs", type=_at_least_one, default=os.cpu_count(), help="processes making mixtures")
    p.add_argument("--limit", type=_at_least_one, default=None, help="first N mixtures of each subset only (a trial)")
    p = sub.add_parser("manifests", help="manifests of a corpus folder, in the layout an experiment asks for")
    p.add_argument("--corpus", required=True, help="folder holding wav8k/ (or wav16k/)")
    p.add_argument("--hparams", required=True, help="experiment file; its data section gives the layout")
    p.add_argument("--out", required=True)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("unlabeled", help="manifests of a folder of unlabeled recordings: segments at the "
                       "experiment's rate, validation held out by recording")
    p.add_argument("--audio", required=True, help="folder of recordings, searched recursively (any format "
                   "soundfile reads, any rate and channel count)")
    p.add_argument("--out", required=True, help="new folder for the segments and manifests")
    p.add_argument("--hparams", default=None, help="experiment file: data.sample_rate and data.segment")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--sample-rate", type=_at_least_one, default=None, help="default: the experiment's")
    p.add_argument("--segment", type=float, default=None, help="seconds per segment; default: the experiment's")
    p.add_argument("--valid-share", type=float, default=0.1, help="share of the recordings held out for validation")
    p.add_argument("--channel", type=int, default=None, help="channel of multi-channel files (0-based); "
                   "default: the average of the channels")
    p.add_argument("--silence-db", type=float, default=-40.0, help="drop segments this far below the loudest "
                   "one of their recording (dB)")
    p.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    p = sub.add_parser("test-manifest", help="tt.json of a labelled test folder (mix or mix_clean/..., s1, s2, ...)")
    p.add_argument("--folder", required=True, help="e.g. data/mini2mix/wav8k/min/tt or Libri2Mix/wav8k/min/test")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("train", help="train from an experiment file")
    p.add_argument("--hparams", required=True)
    p.add_argument("--manifests", required=True)
    p.add_argument("--exp", required=True)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--gpus", type=int, default=0, help="GPUs per node (DDP when more than one in all)")
    p.add_argument("--num-nodes", type=int, default=1, help="nodes for multi-node DDP (SLURM works through Lightning)")
    p.add_argument("--cpu-processes", type=int, default=1, help="DDP processes on the CPU (gloo), for testing")
    p.add_argument("--force", action="store_true", help="train again from the start (removes what training wrote "
                   "into EXP before)")
    p.add_argument("--supervised-manifests", default=None, help="semi-supervised MixIT: manifests of a labelled "
                   "corpus, training.supervised_share of each batch")
    p = sub.add_parser("evaluate", help="evaluate the best model (or an export of it) on the test manifest")
    p.add_argument("--manifests", required=True)
    p.add_argument("--exp", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--metrics", nargs="+", default=["si_sdr", "sdr"],
                   choices=[*METRICS, *(m for m in REFERENCE_FREE_METRICS if m not in METRICS)],
                   help="with references: among %s; without (a manifest without sources, or --reference-free): "
                   "%s" % (", ".join(METRICS), ", ".join(REFERENCE_FREE_METRICS)))
    p.add_argument("--model", default=None, help="model to score: an exported .onnx or TorchScript file, a hub "
                   "folder or a .pth file (default: the experiment's best_model.pth)")
    p.add_argument("--precision", default="32", choices=PRECISIONS,
                   help="bf16: a torch model under bfloat16 autocast; int8: a torch model in dynamic int8 (CPU)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--out", default=None, help="folder for the result files (default: the experiment folder)")
    p.add_argument("--force", action="store_true", help="evaluate again (removes the results in the output folder first)")
    p.add_argument("--reference-free", action="store_true", help="score without the references even where the "
                   "manifest has them (DNSMOS of the outputs, remix SI-SDR); a manifest without sources always is")
    p = sub.add_parser("evaluate-mixit", help="a MixIT model: scores without references on the held-out "
                       "recordings, and with references on a labelled test set when given")
    p.add_argument("--manifests", required=True, help="the experiment's manifests (cv.json: held-out recordings)")
    p.add_argument("--exp", required=True)
    p.add_argument("--test-manifests", default=None, help="folder with the tt.json of a labelled test set")
    p.add_argument("--dataset", default="test", help="name of the labelled test set in results.json")
    p.add_argument("--metrics", nargs="+", default=["si_sdr"], help="each computed where it can be: with "
                   "references (on --test-manifests) or without")
    p.add_argument("--limit", type=_at_least_one, default=None, help="score the first N held-out segments only "
                   "(DNSMOS takes about a second per output and segment on a CPU)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("package", help="hub folder of the experiment (no upload)")
    p.add_argument("--exp", required=True)
    p = sub.add_parser("compare", help="Table-2-style markdown comparison of evaluated experiments")
    p.add_argument("--exps", nargs="+", required=True,
                   help="experiment folders; <name>_seed<N> folders of one parent make one row (mean, 95%% CI)")
    p.add_argument("--out", default="", help="also write the table to this file")
    p.add_argument("--record", default="", help="also write its rows as a result record (JSON) to this file")
    p.add_argument("--name", default="compare", help="the record's name (docs/results/<name>.json when the docs "
                   "show it)")
    p.add_argument("--command", default="", help="the command the record names (default this one), e.g. the "
                   "script that trained and evaluated the experiments")
    p = sub.add_parser("record", help="result record of a recipe run: its evaluation's scores and its wall time")
    p.add_argument("--exp", required=True, help="the evaluated experiment folder (its results.json)")
    p.add_argument("--name", required=True, help="the record's name (docs/results/<name>.json when the docs show it)")
    p.add_argument("--wall-s", type=float, required=True, help="the run's wall time in seconds")
    p.add_argument("--command", required=True, help="the command that ran, as a user types it")
    p.add_argument("--stages", default="", help="the stages that ran (e.g. 0-4)")
    p.add_argument("--since", type=float, help="the run's start (seconds since the epoch): no record when the "
                                               "evaluation's results.json is older (the run skipped it)")
    p.add_argument("--out", default="", help="where to write it (default EXP/record.json)")
    return parser


def _mini2mix(args):
    make_mini2mix(args.out, n_mixtures=tuple(args.mixtures))


def _wsj0mix(args):
    check_wsj0_root(args.wsj0)  # before any download
    lists = args.mix_lists or download_mix_lists(args.download_to)
    counts = make_wsj0mix(args.wsj0, lists, args.out, args.n_src, tuple(args.sample_rates), tuple(args.modes),
                          args.active_levels or None, args.limit)
    print(f"wsj0-{args.n_src}mix in {args.out}: {counts} mixtures")


def _whamr(args):
    check_whamr_inputs(args.wsj0, args.wham_noise)  # before any download
    scripts = args.scripts or fetch_scripts(args.download_to)
    if args.python:
        make_whamr(args.wsj0, args.wham_noise, scripts, args.out, args.python)
    else:
        counts = make_whamr_corpus(args.wsj0, args.wham_noise, scripts, args.out, tuple(args.sample_rates),
                                   tuple(args.modes), args.limit, args.jobs)
        print(f"WHAMR! in {args.out}: {counts} mixtures")


def _librimix(args):
    plan = corpus_plan(load_hparams(args.hparams, args.overrides)["data"], args.sample_rates, args.modes,
                       args.subsets, args.types)
    generate_librimix(args.librispeech, args.wham_noise, args.out, plan, args.librimix_metadata or None,
                      args.download, args.jobs, args.limit)


def _manifests(args):
    write_manifests(args.corpus, args.out, load_hparams(args.hparams, args.overrides)["data"], args.force)


def _unlabeled(args):
    data = load_hparams(args.hparams, args.overrides)["data"] if args.hparams else {}
    rate, segment = args.sample_rate or data.get("sample_rate"), args.segment or data.get("segment")
    if not rate or not segment:
        raise ValueError("Give --sample-rate and --segment, or --hparams FILE whose data section has them.")
    write_unlabeled_manifests(args.audio, args.out, int(rate), float(segment), args.valid_share, args.channel,
                              args.silence_db, args.seed, log=lambda line: print(line, flush=True))


def _test_manifest(args):
    print(f"test manifest: {write_test_manifest(args.folder, args.out, args.force)}")


def _train(args):
    # Only this step pays for importing pytorch_lightning (seconds), without the deprecation notice
    # of torchmetrics 0.11's import.
    with library_warnings_ignored():
        from ..training.trainer import train_experiment

    train_experiment(args.hparams, args.manifests, args.exp, args.overrides, args.gpus, args.num_nodes,
                     args.cpu_processes, args.force, args.supervised_manifests)


def _check_same_scoring(results, args):
    """Refuse to skip an evaluation whose results scored another model or precision than ``args`` asks:
    skipping would show those results as the answer."""
    path = results.file(folder.RESULTS)
    if args.force or not os.path.isfile(path):
        return
    with open(path) as f:
        scored = json.load(f).get("separator") or {}  # absent before 0.2.0: the experiment's model in float32
    asked = args.model or os.path.join(args.exp, folder.MODEL)
    if (os.path.realpath(scored.get("model") or os.path.join(args.exp, folder.MODEL)) != os.path.realpath(asked)
            or scored.get("precision", "32") != args.precision):
        raise ValueError(f"{path} holds the scores of {scored.get('model')} in precision {scored.get('precision')}; "
                         f"to score {asked} in precision {args.precision}, give --out DIR (or --force to replace them).")


def _evaluate(args):
    results = folder.ExperimentFolder(args.out or args.exp)
    _check_same_scoring(results, args)
    if results.should_run("evaluate", args.force):
        print(evaluate_experiment(args.manifests, args.exp, args.dataset, args.metrics, args.model, args.device,
                                  args.precision, args.out, args.reference_free))
    else:
        with open(results.file(folder.RESULTS_TABLE)) as f:
            print(f.read())


def _evaluate_mixit(args):
    with_refs = [m for m in args.metrics if m in METRICS] if args.test_manifests else []
    free = [m for m in args.metrics if m in REFERENCE_FREE_METRICS]
    unknown = [m for m in args.metrics if m not in METRICS and m not in REFERENCE_FREE_METRICS]
    if unknown:
        raise ValueError(f"--metrics {' '.join(unknown)}: unknown; with references: {' '.join(METRICS)}; without: "
                         f"{' '.join(REFERENCE_FREE_METRICS)}.")
    skipped = [m for m in args.metrics if m not in with_refs and m not in free]
    if skipped:
        print(f"== evaluate: {' '.join(skipped)} need references, and no --test-corpus was given: not computed")
    with open(manifest_path(args.manifests, "cv")) as f:
        held_out = [entry["mix"] for entry in json.load(f)][: args.limit]
    model = os.path.join(args.exp, folder.MODEL)
    out = folder.ExperimentFolder(os.path.join(args.exp, folder.REFERENCE_FREE))
    if free and out.should_run("evaluate", args.force):
        print(f"== evaluate: WITHOUT references, on {len(held_out)} held-out segments: {' '.join(free)} "
              f"(in {out.path})", flush=True)
        evaluate_reference_free(model, held_out, out.path, free, args.device, dataset="held-out recordings")
    results = folder.ExperimentFolder(args.exp)
    if with_refs and results.should_run("evaluate", args.force):
        print(f"== evaluate: WITH references, on {args.test_manifests}: {' '.join(with_refs)} (in {args.exp})",
              flush=True)
        print(evaluate_experiment(args.test_manifests, args.exp, args.dataset, with_refs, device=args.device))


def _package(args):
    out = package_experiment(args.exp)
    print(f"Hub folder written to {out} ({', '.join(sorted(os.listdir(out)))}); nothing uploaded.")


def _compare(args):
    rows = comparison_rows(args.exps)  # each experiment's results read once, for the table and the record
    table = rows_markdown(rows)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    print(table)
    if args.record:
        from ..utils.result_records import make_record, write_record

        write_record(args.record, make_record(args.name, rows_records(rows), command=args.command or None,
                                              exps=list(args.exps)))
        print(f"record written to {args.record}")


def _record(args):
    results = os.path.join(args.exp, folder.RESULTS)
    if args.since is not None and os.path.getmtime(results) < args.since:
        print(f"no record written: {results} is from an earlier run (this one skipped the evaluation)")
        return
    path, record = write_run_record(args.exp, args.name, args.wall_s, args.command, args.out or None,
                                    stages=args.stages or None)
    row = record["rows"][0]
    scores = ", ".join(f"{label} {row[key]:.2f} dB" for key, label in (("si_sdri_db", "SI-SDRi"), ("sdri_db", "SDRi"))
                       if key in row)
    print(f"{args.command}: {row['wall_s']:.0f} s, {scores or 'no SI-SDRi'} ({record['host']['kind']}); "
          f"record written to {path}")


#: The function of each step of the command line.
STEPS = {
    "mini2mix": _mini2mix,
    "wsj0mix": _wsj0mix,
    "whamr": _whamr,
    "librimix": _librimix,
    "manifests": _manifests,
    "unlabeled": _unlabeled,
    "test-manifest": _test_manifest,
    "train": _train,
    "evaluate": _evaluate,
    "evaluate-mixit": _evaluate_mixit,
    "package": _package,
    "compare": _compare,
    "record": _record,
}


def main(argv=None):
    from ..utils.errors import run_reporting_errors

    args = _parser().parse_args(argv)
    return run_reporting_errors(f"recipe {args.step}", STEPS[args.step], args)
