"""The steps of the recipes in ``egs/`` (each ``run.sh`` stage calls one):

    python -m asteroid_deepmask.recipe mini2mix   --out DIR [--mixtures TR CV TT]
    python -m asteroid_deepmask.recipe manifests  --wsj0mix DIR --out DIR [--n-src 2]
    python -m asteroid_deepmask.recipe train      --hparams FILE --manifests DIR --exp EXP [--set k=v ...]
    python -m asteroid_deepmask.recipe evaluate   --manifests DIR --exp EXP --dataset NAME
    python -m asteroid_deepmask.recipe package    --exp EXP

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

SPLITS = ("tr", "cv", "tt")


def write_manifests(wsj0mix, out_dir, n_src=2, force=False):
    """``{tr,cv,tt}.json`` (``[{"id", "mix", "sources", "samples"}]``) from a wsj0-mix folder."""
    os.makedirs(out_dir, exist_ok=True)
    for split in SPLITS:
        path = os.path.join(out_dir, f"{split}.json")
        if os.path.exists(path) and not force:
            continue
        mix_dir = os.path.join(wsj0mix, "wav8k", "min", split, "mix")
        if not os.path.isdir(mix_dir):
            raise FileNotFoundError(f"No {mix_dir}: --wsj0mix must hold wav8k/min/{{tr,cv,tt}}/{{mix,s1,...}}.")
        entries = []
        for name in sorted(os.listdir(mix_dir)):
            sources = [os.path.join(wsj0mix, "wav8k", "min", split, f"s{i + 1}", name) for i in range(n_src)]
            missing = [s for s in sources if not os.path.isfile(s)]
            if missing:
                raise FileNotFoundError(f"{name} in {mix_dir} lacks its sources {missing}.")
            mix = os.path.join(mix_dir, name)
            entries.append({"id": os.path.splitext(name)[0], "mix": os.path.abspath(mix),
                            "sources": [os.path.abspath(s) for s in sources], "samples": sf.info(mix).frames})
        with open(path, "w") as f:
            json.dump(entries, f, indent=1)


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m asteroid_deepmask.recipe", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("mini2mix", help="synthesise the mini2mix corpus")
    p.add_argument("--out", required=True)
    p.add_argument("--mixtures", type=int, nargs=3, default=[200, 50, 50], metavar=("TR", "CV", "TT"))
    p = sub.add_parser("manifests", help="manifests of a wsj0-mix folder")
    p.add_argument("--wsj0mix", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n-src", type=int, default=2)
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
    p = sub.add_parser("package", help="hub folder of the experiment (no upload)")
    p.add_argument("--exp", required=True)
    args = parser.parse_args(argv)
    try:
        if args.step == "mini2mix":
            from .data import make_mini2mix

            make_mini2mix(args.out, n_mixtures=tuple(args.mixtures))
        elif args.step == "manifests":
            write_manifests(args.wsj0mix, args.out, args.n_src, args.force)
        elif args.step == "train":
            train(args.hparams, args.manifests, args.exp, args.overrides, args.gpus, args.num_nodes, args.cpu_processes)
        elif args.step == "evaluate":
            from .evaluation import evaluate
            from .models import DeepMaskEncoderMaskerDecoder

            model = DeepMaskEncoderMaskerDecoder.from_pretrained(os.path.join(args.exp, "best_model.pth"))
            test = ManifestDataset(os.path.join(args.manifests, "tt.json"))
            examples = ((e["id"], *test[i]) for i, e in enumerate(test.entries))
            evaluate(model, examples, args.exp, dataset=args.dataset)
            with open(os.path.join(args.exp, "results.md")) as f:
                print(f.read())
        else:
            from .cli import main as cli_main
            from .hub import HUB_FILES

            out = os.path.join(args.exp, "hub")
            if os.path.isdir(out):
                if not set(os.listdir(out)) <= set(HUB_FILES):
                    raise ValueError(f"{out!r} holds files this step did not write; move them away first.")
                shutil.rmtree(out)  # a hub folder this step wrote before: rebuilt from the current model
            return cli_main(["publish", args.exp, "--dry-run", "--out", out])
    except (ValueError, FileNotFoundError) as err:
        print(f"recipe {args.step}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
