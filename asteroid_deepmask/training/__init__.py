"""Training from an experiment file: the LightningModule and its loop (``fit``), the readable log
(``log``) and what keeps a run safe from bad batches and interruptions (``faults``)."""
from .trainer import SeparationModule, fit, make_trainer, train_experiment, training_set

__all__ = ["SeparationModule", "fit", "make_trainer", "train_experiment", "training_set"]
