"""Experiment files of the papers, shipped inside the package as ``asteroid_deepmask.hparams``."""
