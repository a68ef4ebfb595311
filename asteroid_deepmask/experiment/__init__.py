"""Experiment files (``hparams/*.yaml``): reading them (``hparams``) and the one gate every value
passes before anything is written (``schema``)."""
