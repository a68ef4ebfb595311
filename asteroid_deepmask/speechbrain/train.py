"""Train a separation model with SpeechBrain from one of ``hparams/speechbrain/*.yaml``, on a
wsj0-mix folder, without SpeechBrain's recipe folder::

    python -m asteroid_deepmask.speechbrain.train hparams/speechbrain/dprnn_mlp_l.yaml \\
        --data_folder /data/wsj0-mix/2speakers

Options after the file override its top-level keys (``--N_epochs 10``, ``--batch_size 2``,
``--device cuda``...). Training resumes from the last checkpoint in ``save_folder``; the test
set is evaluated with the best one (lowest validation loss) at the end.
"""
import csv
import os
import sys

import soundfile as sf
import speechbrain as sb
import torch
from hyperpyyaml import load_hyperpyyaml

from ..data.corpus_folder import SPLITS


class Separation(sb.Brain):
    """Encoder -> MaskNet -> Decoder trained with a PIT loss from the hparams
    (``get_snr_with_pitwrapper``: negative SNR, the paper's; or SI-SNR)."""

    def compute_forward(self, batch, stage):
        mix = batch.mix_sig.data.to(self.device)
        mix_w = self.modules.encoder(mix)
        masks = self.modules.masknet(mix_w)  # [n_src, batch, n_filters, frames]
        est = torch.stack([self.modules.decoder(mix_w * mask) for mask in masks], dim=-1)
        n = mix.shape[1]
        return torch.nn.functional.pad(est, (0, 0, 0, max(0, n - est.shape[1])))[:, :n]

    def compute_objectives(self, predictions, batch, stage):
        targets = torch.stack(
            [getattr(batch, f"s{i + 1}_sig").data for i in range(self.hparams.num_spks)], dim=-1
        ).to(self.device)
        loss = self.hparams.loss(targets, predictions)
        if stage == sb.Stage.TRAIN and self.hparams.threshold_byloss:
            kept = loss[loss > self.hparams.threshold]
            loss = kept if kept.numel() else loss
        return loss.mean()

    def on_stage_end(self, stage, stage_loss, epoch=None):
        if stage == sb.Stage.TRAIN:
            self.train_loss = stage_loss
        elif stage == sb.Stage.VALID:
            current_lr, next_lr = self.hparams.lr_scheduler([self.optimizer], current_epoch=epoch, current_loss=stage_loss)
            self.hparams.train_logger.log_stats(
                stats_meta={"epoch": epoch, "lr": current_lr},
                train_stats={"loss": self.train_loss},
                valid_stats={"loss": stage_loss},
            )
            self.checkpointer.save_and_keep_only(meta={"loss": stage_loss}, min_keys=["loss"])
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current}, test_stats={"loss": stage_loss}
            )


def prepare_manifests(data_folder, save_folder, num_spks):
    """Write ``wsj_{tr,cv,tt}.csv`` (``ID, duration, mix_wav, s1_wav, ...``) for a wsj0-mix folder.

    Existing manifests are kept, never rewritten.

    Raises:
        FileNotFoundError: ``data_folder`` lacks ``wav8k/min/{tr,cv,tt}/mix``.
    """
    os.makedirs(save_folder, exist_ok=True)
    for split in SPLITS:
        path = os.path.join(save_folder, f"wsj_{split}.csv")
        if os.path.exists(path):
            continue
        mix_dir = os.path.join(data_folder, "wav8k", "min", split, "mix")
        if not os.path.isdir(mix_dir):
            raise FileNotFoundError(
                f"No {mix_dir}: set --data_folder to a wsj0-mix folder (the one holding wav8k/min/"
                "{tr,cv,tt}/{mix,s1,s2}), made with the wsj0-mix scripts from your WSJ0 copy."
            )
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["ID", "duration", "mix_wav"] + [f"s{i + 1}_wav" for i in range(num_spks)])
            for i, name in enumerate(sorted(os.listdir(mix_dir))):
                mix = os.path.join(mix_dir, name)
                sources = [os.path.join(data_folder, "wav8k", "min", split, f"s{j + 1}", name) for j in range(num_spks)]
                writer.writerow([i, sf.info(mix).duration, mix] + sources)


def datasets(hparams):
    """Train, valid and test datasets from the manifests, audio read with soundfile."""

    def reader(key):
        @sb.utils.data_pipeline.takes(f"{key}_wav")
        @sb.utils.data_pipeline.provides(f"{key}_sig")
        def read(path):
            return torch.from_numpy(sf.read(path, dtype="float32")[0])

        return read

    keys = ["mix"] + [f"s{i + 1}" for i in range(hparams["num_spks"])]
    return [
        sb.dataio.dataset.DynamicItemDataset.from_csv(
            csv_path=hparams[name],
            replacements={"data_root": hparams["data_folder"]},
            dynamic_items=[reader(k) for k in keys],
            output_keys=["id"] + [f"{k}_sig" for k in keys],
        )
        for name in ("train_data", "valid_data", "test_data")
    ]


def main(argv=None):
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:] if argv is None else argv)
    with open(hparams_file) as f:
        hparams = load_hyperpyyaml(f, overrides)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"], hyperparams_to_save=hparams_file, overrides=overrides
    )
    if not hparams["skip_prep"]:
        prepare_manifests(hparams["data_folder"], hparams["save_folder"], hparams["num_spks"])
    train, valid, test = datasets(hparams)
    brain = Separation(
        modules=hparams["modules"],
        opt_class=hparams["optimizer"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    loader = hparams["dataloader_opts"]
    brain.fit(hparams["epoch_counter"], train, valid, train_loader_kwargs=loader, valid_loader_kwargs=loader)
    brain.evaluate(test, min_key="loss", test_loader_kwargs=loader)
    return brain


if __name__ == "__main__":
    from asteroid_deepmask.utils.errors import run_reporting_errors

    sys.exit(run_reporting_errors("asteroid_deepmask.speechbrain.train", main))
