"""The one place that silences other libraries' warnings: what a user cannot act on stays out of
their terminal and training logs; our own warnings are never filtered.

:func:`quiet_library_noise` sets the filters of a training process (for its whole life);
:func:`library_warnings_ignored` silences everything inside one call into a library whose
warnings are about its own code paths (metrics, tracing and export, MAC counting, imports);
:func:`root_logger_muted` does the same for what a library logs through the root logger.
"""
import contextlib
import logging
import warnings

#: Lightning's info lines that say nothing about this run: product tips and absent hardware.
_IDLE_LINES = ("💡 Tip", "TPU available", "HPU available")
#: Libraries whose deprecation notices are theirs to act on, not the person training.
_LIBRARIES = ("pytorch_lightning", "lightning_fabric", "lightning_utilities", "torchmetrics", "torchaudio", "torch",
              "asteroid", "speechbrain")


def _keep(record):
    return not str(record.msg).startswith(_IDLE_LINES)


@contextlib.contextmanager
def library_warnings_ignored():
    """Ignore every warning raised inside the ``with`` block; the filters are restored after it.

    Example:
        >>> with library_warnings_ignored():
        ...     warnings.warn("not shown")
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def root_logger_muted():
    """Drop what libraries log through the root logger inside the ``with`` block (ONNX Runtime's
    quantizer advises a pre-processing step that fails on these graphs); logging is restored after it.

    Example:
        >>> with root_logger_muted():
        ...     logging.warning("not shown")
    """
    root = logging.getLogger()
    guard = logging.NullHandler()  # logging.warning() would otherwise install a stderr handler for good
    root.addHandler(guard)
    previous = root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
        root.removeHandler(guard)


def quiet_library_noise():
    """Leave the libraries' noise out of a training log: Lightning's tips and its guesses about the
    data loaders (``PossibleUserWarning``), and the deprecation notices of the libraries we call.

    Our own warnings and every other Lightning message (devices, checkpoints, stops) are kept.
    Changes the process's warning filters and Lightning's logger; calling it again changes nothing.
    """
    from lightning_fabric.utilities.warnings import PossibleUserWarning

    for category in (DeprecationWarning, FutureWarning):
        for library in _LIBRARIES:
            warnings.filterwarnings("ignore", category=category, module=rf"{library}(\.|$)")  # not asteroid_deepmask
    warnings.filterwarnings("ignore", category=PossibleUserWarning)
    # A resumed run writes into its own checkpoint folder: Lightning's warning about it is expected.
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
    # Asteroid's PIT builds its Hungarian assignments (4 sources or more: a teacher-student run) from a list of
    # arrays, and torch says that is slow: a note about Asteroid's code, every batch of the user's run.
    warnings.filterwarnings("ignore", message=r"Creating a tensor from a list of numpy\.ndarrays is extremely slow",
                            module=r"asteroid\.losses\.pit_wrapper")
    # A skipped non-finite batch returns None on purpose; our own warning names it (training/faults.py).
    warnings.filterwarnings("ignore", message=r"`training_step` returned `None`")
    logging.getLogger("pytorch_lightning.utilities.rank_zero").addFilter(_keep)
