"""The ``asteroid-deepmask`` command."""
import argparse
import json
import sys


def _complexity(args):
    from .complexity import experiment_complexity, format_table, paper_table

    if not args.paper and not args.hparams:
        raise SystemExit("asteroid-deepmask complexity: give --paper or one or more hparams files.")
    if args.overrides and not args.hparams:
        raise SystemExit("asteroid-deepmask complexity: --set applies to hparams files, not to --paper.")
    rows = paper_table(seconds=args.seconds) if args.paper else []
    rows += [experiment_complexity(p, args.overrides, seconds=args.seconds) for p in args.hparams]
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))


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
        "paper's setting) for experiment files and/or the paper's Table 1 and 2 rows.",
    )
    comp.add_argument("hparams", nargs="*", help="experiment files (hparams/*.yaml)")
    comp.add_argument("--paper", action="store_true", help="the paper's Table 1 and Table 2 rows")
    comp.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
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
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"asteroid-deepmask {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
