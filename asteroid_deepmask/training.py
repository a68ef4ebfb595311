"""Training with PyTorch Lightning from an experiment file (``hparams/*.yaml``).

:class:`SeparationModule` is our own LightningModule (Asteroid 0.7's ``System`` breaks on
Lightning 2, see DESIGN.md). The objective follows the experiment file's ``training`` section:

* ``grouping: deterministic`` (the paper's): the model's C outputs, PIT on the loss;
* ``grouping: dynamic``: the P outputs before grouping, best assignment to the C sources
  (:class:`~asteroid_deepmask.losses.MixITWrapper`);
* ``unsupervised_mixit: true``: mixtures of mixtures from pairs of training mixtures, the model's
  outputs remixed into the two mixtures (no sources used).

:func:`fit` resumes from ``<exp_dir>/checkpoints/last.ckpt`` when it exists (loaded with
``weights_only=True``) and keeps the best model by validation loss. :func:`train_experiment`
is the recipes' stage 2: an experiment file and manifests in, ``best_model.pth`` out.
"""
import os
import sys

import pytorch_lightning as pl
import torch
import yaml
from asteroid.losses import PITLossWrapper, pairwise_neg_sisdr, pairwise_neg_snr

from .data import ManifestDataset, check_manifests, manifest_path, mixtures_of_mixtures
from .hparams_io import load_hparams
from .losses import MixITWrapper
from .models import build_model

PAIRWISE = {"neg_snr": pairwise_neg_snr, "neg_sisdr": pairwise_neg_sisdr}


class SeparationModule(pl.LightningModule):
    """A separation model and its objective, optimiser and schedule, from an experiment's hparams.

    Args:
        model (torch.nn.Module): one of the package's models.
        hparams (dict): the experiment file (``training``, ``optim``, ``scheduler`` sections).
    """

    def __init__(self, model, hparams):
        super().__init__()
        self.model = model
        self.config = hparams
        training = hparams["training"]
        loss = training.get("loss", "neg_snr")
        if loss not in PAIRWISE:
            raise ValueError(f"training.loss={loss!r}; choose one of {sorted(PAIRWISE)}.")
        grouping = training.get("grouping", "deterministic")
        if grouping not in ("deterministic", "dynamic"):
            raise ValueError(f"training.grouping={grouping!r}; choose 'deterministic' or 'dynamic'.")
        self.grouping, self.unsupervised = grouping, bool(training.get("unsupervised_mixit", False))
        self.pit = PITLossWrapper(PAIRWISE[loss], pit_from="pw_mtx")
        self.mixit = MixITWrapper(loss)

    def training_step(self, batch, batch_idx):
        mix, sources = batch
        if self.unsupervised:
            moms, refs = mixtures_of_mixtures(mix)
            loss = self.mixit(self.model(moms), refs)
        elif self.grouping == "dynamic":
            loss = self.mixit(self.model.forward_outputs(mix), sources)
        else:
            loss = self.pit(self.model(mix), sources)
        self.log("loss", loss, on_epoch=True, prog_bar=True, batch_size=mix.shape[0])
        return loss

    def validation_step(self, batch, batch_idx):
        mix, sources = batch
        loss = self.pit(self.model(mix), sources)
        self.log("val_loss", loss, on_epoch=True, prog_bar=True, sync_dist=True, batch_size=mix.shape[0])

    def configure_optimizers(self):
        optim, sched = self.config["optim"], self.config["scheduler"]
        if optim.get("optimizer", "adam") != "adam":
            raise ValueError(f"optim.optimizer={optim['optimizer']!r}; only 'adam' is supported.")
        optimizer = torch.optim.Adam(self.parameters(), lr=optim["lr"], weight_decay=optim.get("weight_decay", 0.0))
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=sched.get("factor", 0.5), patience=sched.get("patience", 3)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}


def make_trainer(hparams, exp_dir, **trainer_kwargs):
    """A Trainer with the experiment's clipping, early stopping, checkpoints, and CSV and TensorBoard logs."""
    from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    training = hparams["training"]
    checkpoints = ModelCheckpoint(
        dirpath=os.path.join(exp_dir, "checkpoints"), monitor="val_loss", mode="min", save_top_k=1,
        save_last=True, filename="best",
    )
    return pl.Trainer(
        default_root_dir=exp_dir,
        max_epochs=training["max_epochs"],
        gradient_clip_val=training.get("gradient_clip_norm", 5.0),
        callbacks=[checkpoints, EarlyStopping(monitor="val_loss", mode="min", patience=training["early_stop_patience"])],
        # a new version_N per run: a resumed run keeps the old logs (`tensorboard --logdir EXP/tensorboard`)
        logger=[CSVLogger(exp_dir, name="logs"), TensorBoardLogger(exp_dir, name="tensorboard", default_hp_metric=False)],
        **trainer_kwargs,
    )


def fit(module, train_loader, valid_loader, exp_dir, **trainer_kwargs):
    """Train ``module``, resuming from the last checkpoint of ``exp_dir`` if there is one; returns the trainer."""
    trainer = make_trainer(module.config, exp_dir, **trainer_kwargs)
    last = os.path.join(exp_dir, "checkpoints", "last.ckpt")
    resume = last if os.path.isfile(last) else None
    trainer.fit(module, train_loader, valid_loader, ckpt_path=resume, weights_only=True if resume else None)
    return trainer


def train_experiment(hparams_file, manifests, exp_dir, overrides=(), gpus=0, num_nodes=1, cpu_processes=1):
    """Stage 2: train from an experiment file; writes ``best_model.pth`` and ``hparams.yaml``.

    Args:
        hparams_file (str): experiment file (``hparams/*.yaml``).
        manifests (str): folder of ``{tr,cv,tt}.json`` in the layout the experiment asks for.
        exp_dir (str): experiment folder (checkpoints, logs, ``best_model.pth``).
        overrides (sequence of str): ``dotted.key=value`` overrides of the experiment file.
        gpus (int): GPUs per node (0: CPU).
        num_nodes (int): nodes of Lightning's DDP (on SLURM, Lightning reads the node layout from the job).
        cpu_processes (int): more than 1 runs DDP on the CPU with gloo, for testing.
    """
    hp = load_hparams(hparams_file, overrides)
    check_manifests(manifests, hp["data"])
    pl.seed_everything(hp["training"].get("seed", 0), workers=True)
    rate, batch = hp["data"]["sample_rate"], hp["training"]["batch_size"]
    train_set = ManifestDataset(manifest_path(manifests, "tr"), segment=int(hp["data"]["segment"] * rate))
    valid_set = ManifestDataset(manifest_path(manifests, "cv"))
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
