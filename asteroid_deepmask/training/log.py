"""A training log a person can read: the libraries' tips and deprecation notices left out
(:func:`~asteroid_deepmask.utils.library_noise.quiet_library_noise`), and, when no progress bar
is drawn (output to a file), one line per epoch (:class:`EpochLog`)."""
import sys
import time

import pytorch_lightning as pl


def epoch_line(epoch, max_epochs, metrics, lr, seconds):
    """``epoch 3/30  train_loss -4.21  val_loss -5.02  val_si_sdr 5.02 dB  lr 1.0e-03  38.2 s``;
    a metric that was not logged is left out, and so is a count of skipped non-finite batches
    that is zero.

    Args:
        epoch (int): from 1.
        metrics (dict): ``loss_epoch`` (training), ``val_loss``, ``val_si_sdr``,
            ``skipped_batches``, as numbers or tensors.

    Example:
        >>> epoch_line(3, 30, {"loss_epoch": -4.214, "val_loss": -5.02, "val_si_sdr": 5.02}, 1e-3, 38.21)
        'epoch 3/30  train_loss -4.21  val_loss -5.02  val_si_sdr 5.02 dB  lr 1.0e-03  38.2 s'
        >>> epoch_line(4, 30, {"loss_epoch": -4.5, "skipped_batches": 2.0}, 1e-3, 37.0)
        'epoch 4/30  train_loss -4.50  lr 1.0e-03  37.0 s  skipped 2 non-finite batches'
    """
    parts = [f"epoch {epoch}/{max_epochs}"]
    for key, name, unit in (("loss_epoch", "train_loss", ""), ("val_loss", "val_loss", ""),
                            ("val_si_sdr", "val_si_sdr", " dB")):
        if key in metrics:
            parts.append(f"{name} {float(metrics[key]):.2f}{unit}")
    parts += [f"lr {lr:.1e}", f"{seconds:.1f} s"]
    skipped = int(float(metrics.get("skipped_batches", 0)))
    if skipped:
        parts.append(f"skipped {skipped} non-finite batch{'es' if skipped > 1 else ''}")
    return "  ".join(parts)


class EpochLog(pl.Callback):
    """Prints :func:`epoch_line` on stderr at the end of every training epoch (after its
    validation), from the first process only; the learning rate is the one the epoch trained with.

    Example::

        trainer = pl.Trainer(callbacks=[EpochLog()], enable_progress_bar=False)
    """

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        line = epoch_line(trainer.current_epoch + 1, trainer.max_epochs, trainer.callback_metrics, lr,
                          time.perf_counter() - self._start)
        print(line, file=sys.stderr, flush=True)
