"""What training does about faults: non-finite losses, interrupted checkpoint writes, unreadable checkpoints.

* A batch whose loss is NaN or infinite (a corrupt or silent file, or a model diverging) is
  skipped: no backward pass, no optimiser step. Each skip is named in a warning (epoch and
  batch index) and counted in the logs (``skipped_batches``, per epoch).
  :class:`NonFiniteLosses` stops training with a ValueError after more than
  ``training.max_nonfinite_batches`` (default 10) such batches in a row, or a whole epoch of them.
  Under DDP one process cannot skip a step alone, so there the first one stops training.
* :class:`AtomicCheckpointIO` writes every checkpoint whole under a temporary name and renames
  it (:mod:`asteroid_deepmask.utils.atomic`): a run killed at any moment leaves ``last.ckpt`` and
  ``best.ckpt`` as they were after an epoch, so resuming loses at most the epoch in progress.
* :class:`AtomicCheckpointIO` also refuses, in one line, a ``last.ckpt`` that cannot be read when
  training resumes from it (cut short by a kill under an older version, or damaged), naming it and
  the fix; it never deletes it. The file is read once, by Lightning's resume.
"""
import os
import pickle
import warnings
import zipfile

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from ..utils.atomic import atomic_paths
from ..experiment.schema import SCHEMA
from ..utils.checks import check_count

#: Default of ``training.max_nonfinite_batches``.
MAX_NONFINITE_BATCHES = SCHEMA["training"]["max_nonfinite_batches"][0]


class NonFiniteLosses:
    """Decides whether a batch's loss is trained on, and stops training when too many are not finite.

    Args:
        max_in_a_row (int): non-finite batches in a row that are skipped; one more raises a
            ValueError (0: the first one does).

    Example:
        >>> guard = NonFiniteLosses(max_in_a_row=0)
        >>> guard.accept(torch.tensor(1.5), epoch=0, batch_idx=0)
        True
        >>> guard.accept(torch.tensor(float("nan")), epoch=0, batch_idx=1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: Training stopped: the loss was not finite for 1 batches in a row (up to epoch 0, batch 1; ...
    """

    def __init__(self, max_in_a_row=MAX_NONFINITE_BATCHES):
        self.max_in_a_row = check_count("training.max_nonfinite_batches", max_in_a_row)
        self.in_a_row = 0
        self.start_epoch()

    def start_epoch(self):
        """Reset the counts of the epoch."""
        self.batches, self.skipped = 0, 0

    def accept(self, loss, epoch, batch_idx):
        """True to train on this batch; False to skip it (its loss ``[]`` is NaN or infinite).

        Raises:
            ValueError: more than ``max_in_a_row`` non-finite batches in a row, or one under DDP.
        """
        self.batches += 1
        if bool(torch.isfinite(loss).all()):
            self.in_a_row = 0
            return True
        self.in_a_row += 1
        self.skipped += 1
        where = f"epoch {epoch}, batch {batch_idx}"
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        if distributed and torch.distributed.get_world_size() > 1:
            raise ValueError(f"Training stopped: the loss is {loss.item()} at {where} and a DDP process cannot skip "
                             f"a batch alone; {_FIX}")
        if self.in_a_row > self.max_in_a_row:
            raise ValueError(f"Training stopped: the loss was not finite for {self.in_a_row} batches in a row "
                             f"(up to {where}; training.max_nonfinite_batches={self.max_in_a_row}); {_FIX}")
        warnings.warn(f"The loss is {loss.item()} at {where}: batch skipped (no optimiser step).", RuntimeWarning,
                      stacklevel=2)
        return False

    def end_epoch(self, epoch):
        """Raise a ValueError if every batch of ``epoch`` was skipped."""
        if self.batches and self.skipped == self.batches:
            raise ValueError(f"Training stopped: no batch of epoch {epoch} had a finite loss ({self.batches} "
                             f"skipped); {_FIX}")


_FIX = ("check the training data for silent, clipped or corrupt files, or lower optim.lr or "
        "training.gradient_clip_norm; then run the same command again (it resumes from the last checkpoint).")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's ``torch.save`` checkpoints, each written whole under a temporary name in its
    folder, flushed to the disk, then renamed over the previous one.

    Lightning's own writer goes through a temporary file of the system's temporary folder moved
    into place, which is a copy when that folder is on another disk: a kill during the copy
    leaves half a checkpoint.

    Example::

        import pytorch_lightning as pl
        trainer = pl.Trainer(plugins=[AtomicCheckpointIO()])
    """

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        """Write ``checkpoint`` (a dict of plain types and tensors) to ``path``."""
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options.")
        os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
        with atomic_paths(path) as (tmp,), open(tmp, "wb") as f:
            torch.save(checkpoint, f)

    def load_checkpoint(self, path, *args, **kwargs):
        """Lightning's reading of the checkpoint ``path`` (once, at resume), or a ValueError naming it and
        the fix when torch cannot read it whole; ``path`` is left as it is."""
        try:
            return super().load_checkpoint(path, *args, **kwargs)
        except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as err:
            raise _unreadable(path, err) from err


def _unreadable(path, err):
    return ValueError(
        f"Cannot resume training from {path}: torch cannot read it whole ({type(err).__name__}), as after a "
        "kill while it was written by an older version, or damage. Move it aside (it is not deleted) to train "
        "again from the start, or copy best.ckpt from the same folder over it to go on from the best model."
    )
