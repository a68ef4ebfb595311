"""Training with PyTorch Lightning from an experiment file (``hparams/*.yaml``).

:class:`SeparationModule` is our own LightningModule (Asteroid 0.7's ``System`` breaks on
Lightning 2, see DESIGN.md). The objective follows the experiment file's ``training`` section:

* ``grouping: deterministic`` (the paper's): the model's C outputs, PIT on the loss;
* ``grouping: dynamic``: the P outputs before grouping, best assignment to the C sources
  (:class:`~asteroid_deepmask.losses.MixITWrapper`);
* ``unsupervised_mixit: true``: mixtures of mixtures drawn every epoch from pairs of training
  mixtures (:class:`~asteroid_deepmask.data.MixturesOfMixturesDataset`: ``data.mixit_gain_db``,
  ``data.mixit_less_crowded_share``), the model's outputs remixed into the two mixtures; the
  sources are never read, and manifests of unlabeled audio (:mod:`~asteroid_deepmask.data.unlabeled`)
  have none. Validation is the same loss on mixtures of mixtures of the validation set, drawn once
  (the same every epoch). With ``training.supervised_share`` and a labelled corpus, that share of
  each batch comes from the corpus and is trained on its sources (PIT, or the best assignment
  when the model has more outputs than the corpus has sources), and its validation set gives
  ``val_si_sdr``. ``training.sparsity_weight`` and ``training.covariance_weight`` add losses on the P outputs
  of the mixtures of mixtures to MixIT's (:func:`~asteroid_deepmask.losses.rms_sparsity`,
  :func:`~asteroid_deepmask.losses.envelope_covariance`), in training and validation.
* ``training.teacher`` (teacher-student MixIT): the same mixtures, each one alone (not their sums), are
  separated by a trained MixIT model (the teacher, frozen), its outputs grouped into as many targets as the
  model has outputs (:func:`~asteroid_deepmask.losses.group_teacher_outputs`), and the model is trained on
  them with PIT (``training.loss``); validation is the same loss on the validation mixtures.

:func:`fit` resumes from ``<exp_dir>/checkpoints/last.ckpt`` when it exists (loaded with
``weights_only=True``) and keeps the best model by validation loss. :func:`train_experiment`
is the recipes' stage 2: an experiment file and manifests in, ``best_model.pth`` out. Batches with
a non-finite loss are skipped and counted, checkpoints are written atomically and an unreadable
``last.ckpt`` is refused by name: see :mod:`asteroid_deepmask.training.faults`.

The experiment file also sets ``training.precision`` (32, 16-mixed, bf16-mixed; losses stay in
float32), ``training.num_workers`` and ``training.accumulate_grad_batches``, and
``data.dynamic_mixing`` remixes the training sources every epoch. Without a progress bar (output
to a file) the log has one line per epoch (:mod:`asteroid_deepmask.training.log`).
"""
import contextlib
import json
import os
import platform
import sys
import time

import pytorch_lightning as pl
import torch
import yaml
from asteroid.losses import PITLossWrapper, pairwise_neg_sisdr
from lightning_fabric.utilities.rank_zero import rank_zero_only

from ..utils.atomic import atomic_paths
from ..utils.cpu_bf16 import lstm_in_float32_without_cpu_bf16
from ..utils.library_noise import quiet_library_noise
from ..data import (DynamicMixingDataset, ManifestDataset, MixturesOfMixturesDataset, check_manifests,
                    manifest_path)
from .faults import AtomicCheckpointIO, NonFiniteLosses
from ..experiment import folder
from ..experiment.schema import check_experiment, check_same_experiment, recorded, with_defaults
from ..experiment.hparams import load_hparams
from ..losses import MixITWrapper, envelope_covariance, group_teacher_outputs, pairwise_loss, rms_sparsity
from ..losses.covariance import ENVELOPE_FRAME_S
from ..models import build_model
from .log import EpochLog


#: The parts of a semi-supervised training batch (a dict of ``(input, references)`` pairs).
MIXIT, SUPERVISED = "mixit", "supervised"


class SeparationModule(pl.LightningModule):
    """A separation model and its objective, optimiser and schedule, from an experiment's hparams.

    With ``training.unsupervised_mixit``, the model's P outputs (``forward_outputs``) are its
    sources: a training batch is ``(moms, mixtures)`` (mixtures of mixtures ``[batch, time]`` and
    the mixtures they sum ``[batch, 2, time]``) or, semi-supervised,
    ``{"mixit": (moms, mixtures), "supervised": (mix, sources)}``, each part's loss weighted by its
    size; validation batches are ``(moms, mixtures)`` (``val_loss``) from the first loader and
    ``(mix, sources)`` of a labelled set (``val_si_sdr``) from a second one.

    Args:
        model (torch.nn.Module): one of the package's models.
        hparams (dict): the experiment file (``training``, ``optim``, ``scheduler`` sections); keys it
            leaves out take their defaults.

    Raises:
        ValueError: ``hparams`` does not pass :func:`~asteroid_deepmask.experiment.schema.check_experiment`.
    """

    def __init__(self, model, hparams):
        check_experiment(hparams, "the hparams of SeparationModule")
        super().__init__()
        self.model = model
        self.config = with_defaults(hparams)
        training = self.config["training"]
        self.grouping, self.unsupervised = training["grouping"], training["unsupervised_mixit"]
        self.pit = PITLossWrapper(pairwise_loss(training["loss"], training["snr_max"]), pit_from="pw_mtx")
        self.pit_sisdr = PITLossWrapper(pairwise_neg_sisdr, pit_from="pw_mtx")  # the validation SI-SDR
        self.mixit = MixITWrapper(training["loss"], snr_max=training["snr_max"])
        self.mixit_sisdr = MixITWrapper("neg_sisdr")  # the validation SI-SDR of more outputs than sources
        self.sparsity_weight, self.covariance_weight = training["sparsity_weight"], training["covariance_weight"]
        self.envelope_frame = max(1, round(ENVELOPE_FRAME_S * self.config["data"]["sample_rate"]))
        # in a list: the teacher is no submodule (no parameters to train, nothing in checkpoints)
        self._teacher = [] if training["teacher"] is None else [load_teacher(training["teacher"], model, self.config)]
        self.nonfinite = NonFiniteLosses(training["max_nonfinite_batches"])

    @staticmethod
    def _float32(loss, estimates, targets):
        """``loss(estimates, targets)`` in float32 under any ``training.precision``: SNRs of half-precision
        signals are off by tenths of a dB, and the mixture-of-mixtures sums would round."""
        with torch.autocast(estimates.device.type, enabled=False):
            return loss(estimates.float(), targets.float())

    def separate(self, mix, outputs=False):
        """The model's C outputs (all P with ``outputs``) for ``mix`` ``[batch, time]`` (projected to sum to
        ``mix`` when the model has ``mixture_consistency``)."""
        return self.model.forward_outputs(mix) if outputs else self.model(mix)

    def supervised_loss(self, mix, sources):
        """The loss on a labelled batch: PIT on the C outputs, or their best assignment to fewer
        sources; the best assignment of the P outputs with ``grouping: dynamic`` and in MixIT training
        (whose outputs are sources, not parts of them)."""
        if self.grouping == "dynamic" or self.unsupervised:
            return self._float32(self.mixit, self.separate(mix, outputs=True), sources)
        estimates = self.separate(mix)
        return self._float32(self.pit if estimates.shape[1] == sources.shape[1] else self.mixit, estimates, sources)

    def mixit_loss(self, moms, mixtures):
        """The MixIT loss: the P outputs for the mixtures of mixtures ``moms`` remixed into their ``mixtures``,
        plus the weighted losses on those outputs (``training.sparsity_weight``, ``training.covariance_weight``)."""
        outputs = self.separate(moms, outputs=True)
        loss = self._float32(self.mixit, outputs, mixtures)
        with torch.autocast(outputs.device.type, enabled=False):
            if self.sparsity_weight:
                loss = loss + self.sparsity_weight * rms_sparsity(outputs.float()).mean()
            if self.covariance_weight:
                loss = loss + self.covariance_weight * envelope_covariance(outputs.float(), self.envelope_frame).mean()
        return loss

    def teacher_loss(self, moms, mixtures):
        """Teacher-student MixIT: each of ``mixtures`` ``[batch, 2, time]`` (their sums ``moms`` unused) separated
        by the model and by the teacher, the teacher's outputs grouped into the model's number of outputs, PIT
        between the two; silent mixtures (the less crowded mixtures of mixtures' second parts) left out."""
        del moms
        mixes = mixtures.flatten(0, 1)
        mixes = mixes[mixes.pow(2).sum(-1) > 0]
        teacher = self._teacher[0].to(mixes.device)
        with torch.no_grad(), torch.autocast(mixes.device.type, enabled=False):
            teacher_outputs = teacher.forward_outputs(mixes.float())
        estimates = self.separate(mixes, outputs=True)
        targets = group_teacher_outputs(teacher_outputs, estimates.shape[1], self.envelope_frame)
        return self._float32(self.pit, estimates, targets)

    def training_step(self, batch, batch_idx):
        if self._teacher:
            loss, size = self.teacher_loss(*batch), batch[0].shape[0]
        elif self.unsupervised:
            parts = batch if isinstance(batch, dict) else {MIXIT: batch}
            losses = {MIXIT: self.mixit_loss(*parts[MIXIT])}
            if SUPERVISED in parts:
                losses[SUPERVISED] = self.supervised_loss(*parts[SUPERVISED])
            sizes = {name: parts[name][0].shape[0] for name in losses}
            size = sum(sizes.values())
            loss = sum(losses[name] * sizes[name] for name in losses) / size
            if len(losses) > 1:
                for name, value in losses.items():
                    self.log(f"loss_{name}", value, on_step=False, on_epoch=True, batch_size=sizes[name])
        else:
            mix, sources = batch
            loss, size = self.supervised_loss(mix, sources), mix.shape[0]
        skip = not self.nonfinite.accept(loss, self.current_epoch, batch_idx)
        self.log("skipped_batches", float(skip), on_step=False, on_epoch=True, reduce_fx="sum", batch_size=size)
        if skip:
            return None  # Lightning then runs no backward pass and no optimiser step
        self.log("loss", loss, on_epoch=True, prog_bar=True, batch_size=size)
        return loss

    def on_train_epoch_start(self):
        self.nonfinite.start_epoch()

    def on_train_epoch_end(self):
        self.nonfinite.end_epoch(self.current_epoch)

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        # named without a loader suffix: each name comes from one loader
        log = dict(on_epoch=True, sync_dist=True, batch_size=batch[0].shape[0], add_dataloader_idx=False)
        if self.unsupervised and dataloader_idx == 0:  # held-out mixtures of mixtures: no references
            self.log("val_loss", (self.teacher_loss if self._teacher else self.mixit_loss)(*batch), prog_bar=True,
                     **log)
            return
        mix, sources = batch
        estimates = self.separate(mix, outputs=self.unsupervised)  # a MixIT model's sources are its P outputs
        same = estimates.shape[1] == sources.shape[1]  # else the best assignment of the outputs to the sources
        if not self.unsupervised:
            self.log("val_loss", self._float32(self.pit if same else self.mixit, estimates, sources), prog_bar=True,
                     **log)
        self.log("val_si_sdr", -self._float32(self.pit_sisdr if same else self.mixit_sisdr, estimates, sources), **log)

    def configure_optimizers(self):
        optim, sched = self.config["optim"], self.config["scheduler"]
        # optim.optimizer: the schema allows adam only
        optimizer = torch.optim.Adam(self.parameters(), lr=optim["lr"], weight_decay=optim["weight_decay"])
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=sched["factor"],
                                                               patience=sched["patience"])
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}


def load_teacher(path, student, hparams):
    """The frozen teacher model of ``training.teacher`` for ``student`` (a package model), checked against it.

    ``path``: a model file, a hub folder, or a trained experiment folder (its ``best_model.pth``).

    Raises:
        ValueError: no model at ``path``, or a teacher at another sample rate or with fewer outputs than the student.
    """
    from ..models import DeepMaskEncoderMaskerDecoder

    from ..models.pretrained import CONFIG_NAME

    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, CONFIG_NAME)):  # an experiment folder, not a hub one
        path = os.path.join(path, folder.MODEL)  # the model its training kept
    if not os.path.exists(path):
        raise ValueError(f"training.teacher={path!r}: no model there; train the teacher first (a MixIT experiment, "
                         "e.g. egs/mixit/compare_mini.sh's unsupervised way) and give its folder or model file.")
    teacher = DeepMaskEncoderMaskerDecoder.from_pretrained(path).eval().requires_grad_(False)
    rate, outputs = hparams["data"]["sample_rate"], student.masker.n_outputs
    if teacher.sample_rate != rate or teacher.masker.n_outputs < outputs:
        raise ValueError(f"training.teacher={path!r} separates {teacher.sample_rate:g} Hz audio into "
                         f"{teacher.masker.n_outputs} outputs; the model trains at {rate:g} Hz with {outputs} outputs: "
                         "give a teacher at that rate with at least as many outputs.")
    return teacher


def make_trainer(hparams, exp_dir, **trainer_kwargs):
    """A Trainer with the experiment's clipping, early stopping, checkpoints, precision, gradient
    accumulation, and CSV and TensorBoard logs; without a progress bar, an :class:`EpochLog` line per epoch.
    ``hparams`` is checked by :func:`~asteroid_deepmask.experiment.schema.check_experiment`."""
    from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    training = with_defaults(hparams)["training"]
    checkpoints = ModelCheckpoint(
        dirpath=os.path.join(exp_dir, folder.CHECKPOINTS), monitor="val_loss", mode="min", save_top_k=1,
        save_last=True, filename="best",
    )
    return pl.Trainer(
        default_root_dir=exp_dir,
        max_epochs=training["max_epochs"],
        gradient_clip_val=training["gradient_clip_norm"],
        precision=training["precision"],
        accumulate_grad_batches=training["accumulate_grad_batches"],
        callbacks=[checkpoints, EarlyStopping(monitor="val_loss", mode="min", patience=training["early_stop_patience"]),
                   *([] if trainer_kwargs.get("enable_progress_bar", True) else [EpochLog()])],
        # a new version_N per run: a resumed run keeps the old logs (`tensorboard --logdir EXP/tensorboard`)
        logger=[CSVLogger(exp_dir, name=folder.LOGS),
                TensorBoardLogger(exp_dir, name=folder.TENSORBOARD, default_hp_metric=False)],
        plugins=[AtomicCheckpointIO()],  # a kill while writing leaves the previous checkpoint whole
        **trainer_kwargs,
    )


def fit(module, train_loader, valid_loader, exp_dir, **trainer_kwargs):
    """Train ``module``, resuming from the last checkpoint of ``exp_dir`` if there is one; returns the trainer.

    Raises:
        ValueError: that checkpoint cannot be read whole (:class:`~.faults.AtomicCheckpointIO`).
    """
    trainer = make_trainer(module.config, exp_dir, **trainer_kwargs)
    last = os.path.join(exp_dir, folder.LAST_CHECKPOINT)
    resume = last if os.path.isfile(last) else None
    # only under bf16: in float32, oneDNN's LSTM is the fast one (oneDNN is CPU-only: GPU training is left as it is)
    bf16 = module.config["training"]["precision"] == "bf16-mixed"
    with lstm_in_float32_without_cpu_bf16() if bf16 else contextlib.nullcontext():
        trainer.fit(module, train_loader, valid_loader, ckpt_path=resume, weights_only=True if resume else None)
    return trainer


def _num_workers(training, gpus):
    workers = training["num_workers"]
    if workers == "auto":
        # On the CPU the model takes every core and an example loads in about a millisecond (mini2mix);
        # a GPU waits for examples loaded in its own process, so each gets workers of its share of cores.
        return max(0, min(4, (os.cpu_count() or 1) // gpus - 1)) if gpus else 0
    return workers


def training_set(manifest, hparams):
    """The training examples of an experiment: random crops of the manifest's mixtures, or, with
    ``data.dynamic_mixing: true``, new mixtures of its sources (:class:`~.data.DynamicMixingDataset`).

    Returns:
        torch.utils.data.Dataset: ``(mix [time], sources [n_src, time])`` of ``data.segment`` seconds.
    """
    hparams = with_defaults(hparams)
    data, seed = hparams["data"], hparams["training"]["seed"]
    segment = int(data["segment"] * data["sample_rate"])
    if not data.get("dynamic_mixing", False):
        return ManifestDataset(manifest, segment=segment, seed=seed)
    return DynamicMixingDataset(manifest, data.get("dataset"), segment,
                                gain_db=data.get("dynamic_mixing_gain_db", (-2.5, 2.5)),
                                noise_snr_db=data.get("dynamic_mixing_noise_snr_db", (-6.0, 3.0)),
                                speeds=data.get("dynamic_mixing_speeds"), seed=seed)


def supervised_batch_size(training, supervised_manifests):
    """The labelled examples of each batch of a semi-supervised run (0: none), from the training
    section (``batch_size``, ``supervised_share``, ``unsupervised_mixit``) and the labelled corpus's
    manifests folder (None: none given).

    Raises:
        ValueError: a share without a corpus, a corpus without a share (or without MixIT), or a batch
            that leaves no room for mixtures of mixtures.

    Example:
        >>> supervised_batch_size({"batch_size": 8, "supervised_share": 0.1, "unsupervised_mixit": True}, "m")
        1
    """
    share, batch = training.get("supervised_share", 0.0), training["batch_size"]
    if supervised_manifests is None:
        if share:
            raise ValueError(f"training.supervised_share={share} needs a labelled corpus: give --supervised-manifests "
                             "DIR (the recipe's --supervised-corpus), or set the share to 0.")
        return 0
    if not training["unsupervised_mixit"] or not share:
        raise ValueError("A labelled corpus (--supervised-manifests) is mixed into unsupervised MixIT batches: set "
                         "training.unsupervised_mixit=true and training.supervised_share > 0 (e.g. 0.1).")
    count = max(1, round(share * batch))
    if count >= batch:
        raise ValueError(f"training.supervised_share={share} of training.batch_size={batch} leaves no mixture of "
                         "mixtures in a batch: use a larger batch or a smaller share.")
    return count


def data_loaders(manifests, hparams, workers=0, supervised_manifests=None):
    """``(training loader, validation loaders)`` of an experiment (see :class:`SeparationModule` for
    what their batches hold); ``workers`` loading processes per loader."""
    from pytorch_lightning.utilities import CombinedLoader

    hp = with_defaults(hparams)
    data, training = hp["data"], hp["training"]
    # persistent: no new worker processes every epoch (their random streams go on from epoch to epoch)
    loader = dict(num_workers=workers, persistent_workers=workers > 0)
    if not training["unsupervised_mixit"]:
        train = torch.utils.data.DataLoader(training_set(manifest_path(manifests, "tr"), hp),
                                            batch_size=training["batch_size"], shuffle=True, drop_last=True, **loader)
        return train, torch.utils.data.DataLoader(ManifestDataset(manifest_path(manifests, "cv")), batch_size=1,
                                                  **loader)
    labelled = supervised_batch_size(training, supervised_manifests)
    moms = dict(segment=int(data["segment"] * data["sample_rate"]), gain_db=data["mixit_gain_db"],
                less_crowded_share=data["mixit_less_crowded_share"], seed=training["seed"])
    train = torch.utils.data.DataLoader(MixturesOfMixturesDataset(manifest_path(manifests, "tr"), **moms),
                                        batch_size=training["batch_size"] - labelled, shuffle=True, drop_last=True,
                                        **loader)
    valid = [torch.utils.data.DataLoader(MixturesOfMixturesDataset(manifest_path(manifests, "cv"), fixed=True, **moms),
                                         batch_size=training["batch_size"], **loader)]
    if labelled:
        examples = training_set(manifest_path(supervised_manifests, "tr"), hp)
        # drawn with replacement, as many batches as the MixIT loader has: the corpus's size sets no epoch length
        sampler = torch.utils.data.RandomSampler(examples, replacement=True, num_samples=len(train) * labelled)
        supervised = torch.utils.data.DataLoader(examples, batch_size=labelled, sampler=sampler, drop_last=True,
                                                 **loader)
        train = CombinedLoader({MIXIT: train, SUPERVISED: supervised}, mode="min_size")
        valid.append(torch.utils.data.DataLoader(ManifestDataset(manifest_path(supervised_manifests, "cv")),
                                                 batch_size=1, **loader))
    return train, valid


def train_experiment(hparams_file, manifests, exp_dir, overrides=(), gpus=0, num_nodes=1, cpu_processes=1,
                     force=False, supervised_manifests=None):
    """Stage 2: train from an experiment file; writes ``best_model.pth``, ``hparams.yaml`` and
    ``train_time.json`` (:mod:`~asteroid_deepmask.experiment.folder`).

    The experiment file is checked whole (:func:`~asteroid_deepmask.experiment.schema.check_experiment`)
    before anything is written. A folder that holds this experiment, trained to the end, is left as it
    is; one stopped before its end, or trained with fewer epochs, is resumed from its last checkpoint.

    Args:
        hparams_file (str): experiment file (``hparams/*.yaml``).
        manifests (str): folder of ``{tr,cv,tt}.json`` in the layout the experiment asks for.
        exp_dir (str): experiment folder (checkpoints, logs, ``best_model.pth``).
        overrides (sequence of str): ``dotted.key=value`` overrides of the experiment file.
        gpus (int): GPUs per node (0: CPU).
        num_nodes (int): nodes of Lightning's DDP (on SLURM, Lightning reads the node layout from the job).
        cpu_processes (int): more than 1 runs DDP on the CPU with gloo, for testing.
        force (bool): start over: what training wrote into ``exp_dir`` before is removed (nothing else).
        supervised_manifests (str, optional): manifests of a labelled corpus, whose ``training.supervised_share``
            of each batch a semi-supervised MixIT run trains on (its ``tr``) and validates with (its ``cv``).
    """
    start = time.perf_counter()
    quiet_library_noise()
    hp = load_hparams(hparams_file, overrides)
    check_experiment(hp, f"{hparams_file} with its overrides" if overrides else hparams_file, gpus=gpus)
    unsupervised = with_defaults(hp)["training"]["unsupervised_mixit"]
    check_manifests(manifests, hp["data"], unsupervised)
    supervised_batch_size(with_defaults(hp)["training"], supervised_manifests)
    if supervised_manifests is not None:
        check_manifests(supervised_manifests, hp["data"])
    module = SeparationModule(build_model(hp["model"]), hp)  # the model's own checks, before anything is written
    exp = folder.ExperimentFolder(exp_dir)
    # Lightning's DDP processes after the first run this function again, once the first has started over
    force = force and rank_zero_only.rank == 0
    saved = exp.file(folder.HPARAMS)
    def same_run():  # else a longer run of the experiment (more epochs), resumed; or another one, refused
        return os.path.isfile(saved) and with_defaults(_read_yaml(saved)) == with_defaults(hp)

    if not exp.should_run("train", force, finished=same_run):
        return
    if os.path.isfile(saved):
        check_same_experiment(_read_yaml(saved), hp, saved)
    resumed = os.path.isfile(exp.file(folder.LAST_CHECKPOINT))
    pl.seed_everything(module.config["training"]["seed"], workers=True)
    loaders = data_loaders(manifests, hp, _num_workers(module.config["training"], gpus), supervised_manifests)
    os.makedirs(exp_dir, exist_ok=True)
    with atomic_paths(saved) as (tmp,), open(tmp, "w") as f:
        yaml.safe_dump(recorded(hp), f, sort_keys=False)
    devices = dict(accelerator="gpu", devices=gpus) if gpus else dict(accelerator="cpu", devices=cpu_processes)
    if gpus * num_nodes > 1 or cpu_processes > 1:
        devices.update(strategy="ddp", num_nodes=num_nodes)
    trainer = fit(module, *loaders, exp_dir, enable_model_summary=False,
                  enable_progress_bar=sys.stderr.isatty(), **devices)  # no bar redrawn line by line into logs
    if not trainer.is_global_zero:
        return
    best = trainer.checkpoint_callback.best_model_path or exp.file(folder.LAST_CHECKPOINT)
    state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    # the training time covers this run only (the rest of the epochs when it resumed)
    timing = {"train_seconds": round(time.perf_counter() - start, 1), "resumed": resumed, "host": platform.node(),
              "cpus": os.cpu_count()}
    with atomic_paths(exp.file(folder.TRAIN_TIME), exp.file(folder.MODEL)) as (time_tmp, model_tmp):
        with open(time_tmp, "w") as f:
            json.dump(timing, f)
        torch.save(module.model.serialize(), model_tmp)


def _read_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}
