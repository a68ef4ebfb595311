"""The ``asteroid-deepmask`` command."""
import argparse
import json
import os
import sys

from .deployment.quantization import INT8
from .deployment.separators import PRECISIONS
from .deployment.streamers import STREAM_PRECISIONS
from .deployment.web_runtime import VERSION as ORT_WEB_VERSION
from .models.pretrained import WEB_DIR
from .models.source_counting import ACTIVE_THRESHOLD_DB

# `web --runtime` and `publish --runtime`: where the page's onnxruntime-web comes from
_RUNTIME_HELP = (f"onnxruntime-web-{ORT_WEB_VERSION}.tgz (from `npm pack onnxruntime-web@{ORT_WEB_VERSION}`) or the "
                 "folder it unpacks to (default: the cache, else npm)")


def _complexity(args):
    from .complexity import experiment_complexity, format_table, paper_table

    if not args.paper and not args.hparams:
        raise SystemExit("asteroid-deepmask complexity: give --paper or one or more hparams files.")
    if args.overrides and not args.hparams:
        raise SystemExit("asteroid-deepmask complexity: --set applies to hparams files, not to --paper.")
    rows = paper_table(seconds=args.seconds) if args.paper else []
    rows += [experiment_complexity(p, args.overrides, seconds=args.seconds) for p in args.hparams]
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    if args.record:
        from .utils.result_records import make_record, write_record

        name = "complexity_paper" if args.paper and not args.hparams else "complexity"
        path = write_record(args.record, make_record(name, rows))
        print(f"record written to {path}", file=sys.stderr)  # standard output stays the table or the JSON


def _separate(args):
    import soundfile as sf

    from .deployment.allocator import retain_freed_memory
    from .deployment.long_files import separate_files

    retain_freed_memory()  # each window reuses the previous one's blocks instead of fresh pages
    outputs = separate_files(args.model, args.inputs, args.output, args.window, args.overlap, args.channel,
                             args.downmix, args.batch_size, args.force, args.device, args.precision, args.revision,
                             progress=True, active_only=args.active_only, active_threshold_db=args.active_threshold)
    paths = [p for written in outputs.values() for p in written]
    if args.active_only:
        counts = ", ".join(f"{os.path.basename(f)}: {len(written)}" for f, written in outputs.items())
        print(f"Wrote {len(paths)} active sources (above {args.active_threshold:g} dB re the mixture; {counts}) "
              f"to {args.output}")
    else:
        print(f"Wrote {len(paths)} files ({len(paths) // len(outputs)} sources x {len(outputs)} inputs, "
              f"{sf.info(paths[0]).samplerate} Hz) to {args.output}")


def _export(args):
    from .models import DeepMaskEncoderMaskerDecoder
    from .deployment.export import export_format

    format = export_format(args.output, args.format)
    if os.path.exists(args.output) and not args.force:
        raise ValueError(f"Refusing to overwrite {args.output!r}; pass --force.")
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        raise ValueError(f"The folder of {args.output!r} does not exist; create {folder!r} first.")
    if args.block_ms is not None and not args.streaming:
        raise ValueError("--block-ms sets the block of a streaming export: add --streaming.")
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(args.model, revision=args.revision)
    if args.streaming:
        from .deployment.streaming_export import block_samples, export_streaming_model

        block = block_samples(model, args.block_ms, name="--block-ms")
        export_streaming_model(model, args.output, block, format=format, opset=args.opset, quantize=args.quantize)
        print(f"Exported one streaming step of {type(model).__name__}{_in_int8(args)} to {args.output} ({format}; "
              f"blocks of {block} samples at {model.sample_rate:g} Hz in, [batch, {model.masker.n_src}, {block}] out, "
              "states in and out; `asteroid-deepmask stream --model FILE` runs it)")
        return
    model.export(args.output, format=format, opset=args.opset, quantize=args.quantize)
    print(f"Exported {type(model).__name__}{_in_int8(args)} to {args.output} ({format}; input [batch, time] at "
          f"{model.sample_rate:g} Hz, output [batch, {model.masker.n_src}, time])")


def _in_int8(args):
    """`` in dynamic int8 (Conv1x1, LSTM, Linear layers)``: the kinds the written file's metadata says were
    quantized; empty for a float32 export."""
    from .deployment.export import read_export_metadata

    if not args.quantize:
        return ""
    return f" in dynamic int8 ({', '.join(read_export_metadata(args.output)['quantization']['layers'])} layers)"


def _stream(args):
    from .deployment.live import report, stream_file

    stats = stream_file(args.model, args.input, args.output, args.block_ms, args.raw_rate, args.raw_format,
                        args.channel, args.downmix, args.force, args.device, args.revision, precision=args.precision)
    where = "" if args.output == "-" else f"; wrote {', '.join(stats['outputs'])}"
    # with -o -, standard output carries the audio: the report goes to standard error
    print(report(stats) + where, file=sys.stderr if args.output == "-" else sys.stdout)


def _web(args):
    from .models import DeepMaskEncoderMaskerDecoder
    from .deployment.streaming_export import block_samples
    from .deployment.web import build_web_folder, describe

    model = DeepMaskEncoderMaskerDecoder.from_pretrained(args.model, revision=args.revision)
    block = block_samples(model, args.block_ms, name="--block-ms")
    print(describe(build_web_folder(model, args.output, block, args.quantize, args.runtime, args.force)))


def _publish(args):
    from .recipe.publishing import HUB_DIR, upload_experiment, write_hub_folder

    if not args.dry_run and not args.repo_id:
        raise ValueError("give --repo-id user/name to upload, or --dry-run to only write the hub folder.")
    if args.runtime and not args.web:
        raise ValueError("--runtime is where the browser page's runtime comes from: add --web to write the page.")
    options = dict(license=args.license, onnx=args.onnx, web=args.web, web_runtime=args.runtime)

    if args.dry_run:
        out = args.out or os.path.join(args.exp_dir, HUB_DIR)
        if os.path.exists(out) and os.listdir(out) and not args.force:
            raise ValueError(f"{out!r} exists and is not empty; pass --force to overwrite it, or --out DIR.")
        write_hub_folder(args.exp_dir, out, **options)
        print(f"Hub folder written to {out} ({', '.join(sorted(os.listdir(out)))}); nothing uploaded (--dry-run).")
        return
    info = upload_experiment(args.exp_dir, args.repo_id, private=args.private, **options)
    print(f"Uploaded to {getattr(info, 'commit_url', None) or args.repo_id}")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="asteroid-deepmask",
        description="Deep mask estimation for Asteroid / SpeechBrain separation models.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    comp = sub.add_parser(
        "complexity",
        help="parameters and MACs (thop) of experiment files or of the paper's rows",
        description="Count parameters and MACs with thop on a mono input (4 s by default, the "
        "paper's setting) for experiment files and/or the paper's Table 1 and 2 rows. 'MACs' is the "
        "paper's counting (DPRNN's per-output projections on the chunks); 'MACs run' what the model "
        "computes (those projections after overlap-add, on the frames).",
    )
    comp.add_argument("hparams", nargs="*", help="experiment files (hparams/*.yaml)")
    comp.add_argument("--paper", action="store_true", help="the paper's Table 1 and Table 2 rows")
    comp.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    comp.add_argument("--record", metavar="PATH", help="also write the rows as a result record (docs/results/)")
    comp.add_argument("--seconds", type=float, default=None, help="input length (default: the file's, 4 s)")
    comp.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key of the hparams files, e.g. --set model.n_outputs=8",
    )
    comp.set_defaults(func=_complexity)

    sep = sub.add_parser(
        "separate",
        help="separate audio files into one wav per source",
        description="Separate files, folders and glob patterns into <output>/<name>_s<i>.wav at the "
        "model's sample rate. Inputs are resampled to it; long files run in overlapping windows "
        "joined by cross-fades, with the source order kept from window to window.",
    )
    sep.add_argument("inputs", nargs="+", help="audio files, folders or glob patterns")
    sep.add_argument("--model", required=True, help="hub repository id, hub folder, serialised .pth file, or a "
                     "file written by `asteroid-deepmask export` (.onnx runs on ONNX Runtime, or TorchScript)")
    sep.add_argument("--revision", help="hub revision (branch, tag or commit)")
    sep.add_argument("-o", "--output", required=True, help="output folder")
    sep.add_argument("--channel", type=int, help="channel of a multi-channel file to separate (0-based)")
    sep.add_argument("--downmix", action="store_true", help="average the channels of a multi-channel file")
    sep.add_argument("--window", type=float, default=8.0, help="window length in seconds (default 8)")
    sep.add_argument("--overlap", type=float, default=1.0, help="overlap of windows in seconds (default 1)")
    sep.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    sep.add_argument("--precision", default="32", choices=PRECISIONS,
                     help="bf16: a torch or TorchScript model under bfloat16 autocast; int8: a torch model with its "
                     "recurrent, linear and 1x1 convolution layers in dynamic int8, on the CPU (default 32; an export "
                     "runs in its own)")
    sep.add_argument("--batch-size", type=int, default=1, help="windows separated in one call (default 1)")
    sep.add_argument("--force", action="store_true", help="overwrite existing outputs (with --active-only, an earlier "
                     "run's <name>_s<i>.wav past the new count are removed)")
    sep.add_argument("--active-only", action="store_true", help="write only the outputs that carry a source "
                     "(of an overseparated model's P outputs), loudest first: <name>_s1.wav is the loudest")
    sep.add_argument("--active-threshold", type=float, default=ACTIVE_THRESHOLD_DB, metavar="DB",
                     help="with --active-only: the level relative to the mixture an output must exceed, in dB, "
                     "after removing what it shares with another output (the residual of a mixture-consistency "
                     "projection) (default %(default)g)")
    sep.set_defaults(func=_separate)

    exp = sub.add_parser(
        "export",
        help="export a model to ONNX or TorchScript for deployment",
        description="Write a model as an ONNX or TorchScript file mapping [batch, time] to "
        "[batch, n_src, time] for any batch and length, with its metadata (model, sample rate, "
        "sources, package version, config). `separate --model FILE` runs it.",
    )
    exp.add_argument("--model", required=True, help="hub repository id, hub folder, or serialised .pth file")
    exp.add_argument("--revision", help="hub revision (branch, tag or commit)")
    exp.add_argument("--format", choices=["onnx", "torchscript"], help="default: from the output suffix (.onnx, .pt)")
    exp.add_argument("-o", "--output", required=True, help="output file")
    exp.add_argument("--opset", type=int, help="ONNX opset (default: the installed torch exporter's)")
    exp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    exp.add_argument("--streaming", action="store_true", help="export one block step of a causal model, its "
                     "states as inputs and outputs, for `asteroid-deepmask stream` or your own live loop")
    exp.add_argument("--block-ms", type=float, help="with --streaming: block length in ms (default 10), a "
                     "multiple of the model's stride")
    exp.add_argument("--quantize", choices=[INT8], help="int8: the LSTM, GRU, Linear and 1x1 convolution layers "
                     "in dynamic int8 (ONNX Runtime's quantizer for .onnx, torch's for TorchScript), for CPU "
                     "deployment")
    exp.set_defaults(func=_export)

    live = sub.add_parser(
        "stream",
        help="separate live audio block by block with a causal model",
        description="Separate a file, or raw PCM from standard input ('-'), block by block as it would "
        "arrive live, writing each source as it is made (<output>/<name>_s<i>.wav, or raw PCM with the "
        "sources interleaved on standard output with -o -). The outputs equal the whole-input separation. "
        "At the end, or at Ctrl-C, the stream is flushed and the latency, time per block and real-time "
        "factor are printed.",
    )
    live.add_argument("input", help="an audio file, or '-' for raw mono PCM on standard input")
    live.add_argument("--model", required=True, help="a causal model: hub repository id or folder, .pth file, or a "
                      "streaming export (`asteroid-deepmask export --streaming`)")
    live.add_argument("--revision", help="hub revision (branch, tag or commit)")
    live.add_argument("-o", "--output", required=True, help="output folder, or '-' for raw PCM on standard output")
    live.add_argument("--block-ms", type=float, help="block length in ms (default: a streaming export's, else 10)")
    live.add_argument("--raw-rate", type=int, help="sample rate of raw input on standard input (the model's)")
    live.add_argument("--raw-format", default="int16", choices=["int16", "float32"],
                      help="sample format of raw input and output (default int16)")
    live.add_argument("--channel", type=int, help="channel of a multi-channel file (0-based)")
    live.add_argument("--downmix", action="store_true", help="average the channels of a multi-channel file")
    live.add_argument("--device", default="cpu", help="torch device of a torch model")
    live.add_argument("--precision", default="32", choices=STREAM_PRECISIONS,
                      help="int8: a torch model with its recurrent, linear and 1x1 convolution layers in dynamic int8, "
                      "on the CPU (default 32; a streaming export runs in its own)")
    live.add_argument("--force", action="store_true", help="overwrite existing outputs")
    live.set_defaults(func=_stream)

    web = sub.add_parser(
        "web",
        help="write a static page that separates the microphone live in the browser",
        description="Write a folder any static web server can serve (python -m http.server -d FOLDER): a page "
        "that separates the microphone, or a dropped WAV file, live on the visitor's CPU with the causal model's "
        f"streaming ONNX step, run by onnxruntime-web {ORT_WEB_VERSION} (WebAssembly; multi-threaded where "
        "the server sends the cross-origin isolation headers). The runtime comes from --runtime, the cache "
        "(python -m asteroid_deepmask.deployment.web_runtime fills it) or npm.",
    )
    web.add_argument("--model", required=True, help="a causal model: hub repository id or folder, or .pth file")
    web.add_argument("--revision", help="hub revision (branch, tag or commit)")
    web.add_argument("-o", "--output", required=True, help="the folder to write")
    web.add_argument("--block-ms", type=float, help="block length in ms (default 10), a multiple of the model's "
                     "stride")
    web.add_argument("--quantize", choices=[INT8], help="int8: the step's LSTM, GRU, Linear and 1x1 convolution "
                     "layers in dynamic int8 (a smaller file)")
    web.add_argument("--runtime", metavar="PATH", help=_RUNTIME_HELP)
    web.add_argument("--force", action="store_true", help="write into a non-empty folder that `web` did not write")
    web.set_defaults(func=_web)

    pub = sub.add_parser(
        "publish",
        help="publish a recipe's experiment folder to the Hugging Face hub",
        description="Build a hub folder (safetensors weights, config, Asteroid package, model card) "
        "from an experiment folder (best_model.pth, and results.json / hparams.yaml when present) "
        "and upload it. The token is huggingface_hub's login (hf auth login or HF_TOKEN).",
    )
    pub.add_argument("exp_dir", help="experiment folder")
    pub.add_argument("--repo-id", help="hub repository, user/name (required unless --dry-run)")
    pub.add_argument("--dry-run", action="store_true", help="write the hub folder only; upload nothing")
    pub.add_argument("--out", help="with --dry-run: where to write it (default EXP_DIR/hub)")
    pub.add_argument("--private", action="store_true", help="create the repository as private")
    pub.add_argument("--license", default="cc-by-sa-4.0", help="license of the weights (default cc-by-sa-4.0)")
    pub.add_argument("--force", action="store_true", help="with --dry-run: overwrite a non-empty --out")
    pub.add_argument("--onnx", action="store_true", help="include model.onnx (an ONNX Runtime export) and its usage")
    pub.add_argument("--web", action="store_true", help=f"include {WEB_DIR}/, the page that separates the microphone live in "
                     "the browser (as `asteroid-deepmask web` writes it, float32; 14 MB of WebAssembly), and how to run "
                     "it; a causal model only")
    pub.add_argument("--runtime", metavar="PATH", help=f"with --web: {_RUNTIME_HELP}")
    pub.set_defaults(func=_publish)
    return parser


def main(argv=None):
    from .utils.errors import run_reporting_errors

    args = build_parser().parse_args(argv)
    return run_reporting_errors(f"asteroid-deepmask {args.command}", args.func, args)


if __name__ == "__main__":
    sys.exit(main())
