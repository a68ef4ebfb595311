"""The steps of the recipes in ``egs/`` (each ``run.sh`` stage calls one):

    python -m asteroid_deepmask.recipe mini2mix   --out DIR [--mixtures TR CV TT]
    python -m asteroid_deepmask.recipe wsj0mix    --wsj0 DIR --out DIR [--n-src 2] [--mix-lists DIR]
    python -m asteroid_deepmask.recipe whamr      --wsj0 DIR --wham-noise DIR --out DIR [--scripts DIR]
    python -m asteroid_deepmask.recipe manifests  --corpus DIR --hparams FILE --out DIR
    python -m asteroid_deepmask.recipe train      --hparams FILE --manifests DIR --exp EXP [--set k=v ...]
    python -m asteroid_deepmask.recipe evaluate   --manifests DIR --exp EXP --dataset NAME [--metrics ...]
    python -m asteroid_deepmask.recipe package    --exp EXP
    python -m asteroid_deepmask.recipe compare    --exps EXP [EXP ...] [--out FILE]

Every step refuses to overwrite what it did not create in this run and skips work already done
(``--force`` redoes it); training resumes from the experiment's last checkpoint.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import soundfile as sf
import torch
import yaml

from .data.corpus_folder import SPLITS


def corpus_layout(data):
    """Where an experiment's audio lies in its corpus: ``{"folder", "mixture", "sources"}``.

    ``folder`` is ``wav8k/min``-like; ``mixture`` the mixtures' folder and ``sources`` the sources'
    folders (``{i}`` from 1), from the ``data`` section of an experiment file.
    """
    from .data.whamr import layout

    rate, mode = int(data.get("sample_rate", 8000)), data.get("mode", "min")
    mixture, sources = "mix", "s{i}"
    if data.get("dataset") == "whamr":
        mixture, sources = layout(data.get("mixture", "noisy_reverberant"), data.get("targets", "reverberant"))
    return {"folder": f"wav{rate // 1000}k/{mode}", "mixture": mixture, "sources": sources,
            "n_src": int(data.get("n_src", 2)), "sample_rate": rate}


def write_manifests(corpus, out_dir, data, force=False):
    """``{tr,cv,tt}.json`` (``[{"id", "mix", "sources", "samples"}]``) from a corpus folder.

    ``data`` is an experiment file's ``data`` section (see :func:`corpus_layout`); ``info.json``
    records the layout, and :func:`train` refuses manifests made for another one.
    """
    info = corpus_layout(data)
    os.makedirs(out_dir, exist_ok=True)
    info_path = os.path.join(out_dir, "info.json")
    if os.path.exists(info_path) and not force:
        with open(info_path) as f:
            made = json.load(f)
        if made != info:
            raise ValueError(f"{out_dir!r} holds manifests of another layout ({made}); use another folder for {info}.")
    for split in SPLITS:
        path = os.path.join(out_dir, f"{split}.json")
        if os.path.exists(path) and not force:
            continue
        split_dir = os.path.join(corpus, info["folder"], split)
        mix_dir = os.path.join(split_dir, info["mixture"])
        if not os.path.isdir(mix_dir):
            raise FileNotFoundError(
                f"No {mix_dir}: the corpus folder must hold {info['folder']}/{{tr,cv,tt}}/{info['mixture']} "
                "(point the recipe at the folder that holds wav8k/, or run its stage 0)."
            )
        entries = []
        for name in sorted(n for n in os.listdir(mix_dir) if n.endswith(".wav")):
            sources = [os.path.join(split_dir, info["sources"].format(i=i + 1), name) for i in range(info["n_src"])]
            missing = [s for s in sources if not os.path.isfile(s)]
            if missing:
                raise FileNotFoundError(f"{name} in {mix_dir} lacks its sources {missing}.")
            mix = os.path.join(mix_dir, name)
            entries.append({"id": os.path.splitext(name)[0], "mix": os.path.abspath(mix),
                            "sources": [os.path.abspath(s) for s in sources], "samples": sf.info(mix).frames})
        if not entries:
            raise FileNotFoundError(f"{mix_dir} holds no .wav files.")
        with open(path, "w") as f:
            json.dump(entries, f, indent=1)
    with open(info_path, "w") as f:
        json.dump(info, f, indent=1)


def check_manifests(manifests, data):
    """Raise a ValueError when ``manifests`` were made for another layout than ``data`` asks for."""
    info_path = os.path.join(manifests, "info.json")
    if not os.path.isfile(info_path):
        raise FileNotFoundError(f"No {info_path}: make the manifests first (the recipe's stage 1).")
    with open(info_path) as f:
        made = json.load(f)
    wanted = corpus_layout(data)
    if made != wanted:
        raise ValueError(
            f"The manifests in {manifests!r} list {made}, but the experiment wants {wanted}: remake them "
            "(stage 1 with --force true) or use another --manifests folder."
        )


class ManifestDataset(torch.utils.data.Dataset):
    """``(mix [time], sources [n_src, time])`` from a manifest; with ``segment`` samples, a random
    crop of that length (shorter utterances are zero-padded)."""

    def __init__(self, manifest, segment=None, seed=0):
        with open(manifest) as f:
            self.entries = json.load(f)
        if not self.entries:
            raise ValueError(f"{manifest} lists no utterances.")
        self.segment, self.rng = segment, np.random.default_rng(seed)

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        start, stop = 0, None
        if self.segment:
            start = int(self.rng.integers(0, max(1, entry["samples"] - self.segment + 1)))
            stop = start + self.segment
        read = lambda path: sf.read(path, start=start, stop=stop, dtype="float32")[0]  # noqa: E731
        mix, sources = read(entry["mix"]), np.stack([read(s) for s in entry["sources"]])
        if self.segment and len(mix) < self.segment:
            pad = self.segment - len(mix)
            mix, sources = np.pad(mix, (0, pad)), np.pad(sources, ((0, 0), (0, pad)))
        return torch.from_numpy(mix), torch.from_numpy(sources)


def train(hparams_file, manifests, exp_dir, overrides=(), gpus=0, num_nodes=1, cpu_processes=1):
    """Stage 2: train from an experiment file; writes ``best_model.pth`` and ``hparams.yaml``.

    ``gpus`` GPUs per node (0: CPU) and ``num_nodes`` nodes run Lightning's DDP (on SLURM,
    Lightning reads the node layout from the job); ``cpu_processes > 1`` runs DDP on the CPU
    with gloo, for testing.
    """
    from .hparams_io import load_hparams
    from .models import build_model
    from .training import SeparationModule, fit

    hp = load_hparams(hparams_file, overrides)
    check_manifests(manifests, hp["data"])
    import pytorch_lightning as pl

    pl.seed_everything(hp["training"].get("seed", 0), workers=True)
    rate, batch = hp["data"]["sample_rate"], hp["training"]["batch_size"]
    train_set = ManifestDataset(os.path.join(manifests, "tr.json"), segment=int(hp["data"]["segment"] * rate))
    valid_set = ManifestDataset(os.path.join(manifests, "cv.json"))
    workers = hp["training"].get("num_workers", 0)
    loaders = (
        torch.utils.data.DataLoader(train_set, batch_size=batch, shuffle=True, drop_last=True, num_workers=workers),
        torch.utils.data.DataLoader(valid_set, batch_size=1, num_workers=workers),
    )
    os.makedirs(exp_dir, exist_ok=True)
    with open(os.path.join(exp_dir, "hparams.yaml"), "w") as f:
        yaml.safe_dump(hp, f, sort_keys=False)
    module = SeparationModule(build_model(hp["model"]), hp)
    devices = dict(accelerator="gpu", devices=gpus) if gpus else dict(accelerator="cpu", devices=cpu_processes)
    if gpus * num_nodes > 1 or cpu_processes > 1:
        devices.update(strategy="ddp", num_nodes=num_nodes)
    trainer = fit(module, *loaders, exp_dir, enable_model_summary=False,
                  enable_progress_bar=sys.stderr.isatty(), **devices)  # no bar redrawn line by line into logs
    if not trainer.is_global_zero:
        return
    best = trainer.checkpoint_callback.best_model_path or os.path.join(exp_dir, "checkpoints", "last.ckpt")
    state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    torch.save(module.model.serialize(), os.path.join(exp_dir, "best_model.pth"))


def evaluate_experiment(manifests, exp_dir, dataset, metrics=("si_sdr", "sdr")):
    """Stage 3: evaluate ``exp_dir/best_model.pth`` on the test manifest; returns the results table (markdown)."""
    from .evaluation import evaluate
    from .models import DeepMaskEncoderMaskerDecoder

    model = DeepMaskEncoderMaskerDecoder.from_pretrained(os.path.join(exp_dir, "best_model.pth"))
    test = ManifestDataset(os.path.join(manifests, "tt.json"))
    examples = ((e["id"], *test[i]) for i, e in enumerate(test.entries))
    evaluate(model, examples, exp_dir, dataset=dataset, metrics=tuple(metrics))
    with open(os.path.join(exp_dir, "results.md")) as f:
        return f.read()


def package(exp_dir):
    """Stage 4: ``exp_dir/hub``, rebuilt from the current model (only files this step writes are replaced)."""
    from .cli import main as cli_main
    from .hub import HUB_FILES

    out = os.path.join(exp_dir, "hub")
    if os.path.isdir(out):
        if not set(os.listdir(out)) <= set(HUB_FILES):
            raise ValueError(f"{out!r} holds files this step did not write; move them away first.")
        shutil.rmtree(out)
    return cli_main(["publish", exp_dir, "--dry-run", "--out", out])


def _parser():
    from .evaluation import METRICS

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
    p.add_argument("--limit", type=int, default=None, help="first N mixtures of each list only")
    p = sub.add_parser("whamr", help="make WHAMR! with the official scripts")
    p.add_argument("--wsj0", required=True)
    p.add_argument("--wham-noise", required=True)
    p.add_argument("--scripts", default="", help="unpacked whamr_scripts folder; empty: download it")
    p.add_argument("--python", default=sys.executable, help="interpreter of an environment that runs those scripts")
    p.add_argument("--download-to", default="data/downloads")
    p.add_argument("--out", required=True)
    p = sub.add_parser("manifests", help="manifests of a corpus folder, in the layout an experiment asks for")
    p.add_argument("--corpus", required=True, help="folder holding wav8k/ (or wav16k/)")
    p.add_argument("--hparams", required=True, help="experiment file; its data section gives the layout")
    p.add_argument("--out", required=True)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("train", help="train from an experiment file")
    p.add_argument("--hparams", required=True)
    p.add_argument("--manifests", required=True)
    p.add_argument("--exp", required=True)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--gpus", type=int, default=0, help="GPUs per node (DDP when more than one in all)")
    p.add_argument("--num-nodes", type=int, default=1, help="nodes for multi-node DDP (SLURM works through Lightning)")
    p.add_argument("--cpu-processes", type=int, default=1, help="DDP processes on the CPU (gloo), for testing")
    p = sub.add_parser("evaluate", help="evaluate the best model on the test manifest")
    p.add_argument("--manifests", required=True)
    p.add_argument("--exp", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--metrics", nargs="+", default=["si_sdr", "sdr"], choices=METRICS)
    p = sub.add_parser("package", help="hub folder of the experiment (no upload)")
    p.add_argument("--exp", required=True)
    p = sub.add_parser("compare", help="Table-2-style markdown comparison of evaluated experiments")
    p.add_argument("--exps", nargs="+", required=True)
    p.add_argument("--out", default="", help="also write the table to this file")
    return parser


def _run(args):
    if args.step == "mini2mix":
        from .data import make_mini2mix

        make_mini2mix(args.out, n_mixtures=tuple(args.mixtures))
    elif args.step == "wsj0mix":
        from .data.wsj0mix import download_mix_lists, make_wsj0mix

        lists = args.mix_lists or download_mix_lists(args.download_to)
        counts = make_wsj0mix(args.wsj0, lists, args.out, args.n_src, tuple(args.sample_rates), tuple(args.modes),
                              args.active_levels or None, args.limit)
        print(f"wsj0-{args.n_src}mix in {args.out}: {counts} mixtures")
    elif args.step == "whamr":
        from .data.whamr import fetch_scripts, make_whamr

        make_whamr(args.wsj0, args.wham_noise, args.scripts or fetch_scripts(args.download_to), args.out, args.python)
    elif args.step == "manifests":
        from .hparams_io import load_hparams

        write_manifests(args.corpus, args.out, load_hparams(args.hparams, args.overrides)["data"], args.force)
    elif args.step == "train":
        train(args.hparams, args.manifests, args.exp, args.overrides, args.gpus, args.num_nodes, args.cpu_processes)
    elif args.step == "evaluate":
        print(evaluate_experiment(args.manifests, args.exp, args.dataset, args.metrics))
    elif args.step == "package":
        return package(args.exp)
    else:
        from .comparison import comparison_markdown

        table = comparison_markdown(args.exps)
        if args.out:
            with open(args.out, "w") as f:
                f.write(table)
        print(table)
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"recipe {args.step}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
