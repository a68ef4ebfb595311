"""What a recipe's experiment folder holds, read for publishing.

An experiment folder has ``best_model.pth`` (the best model, written with ``serialize()``), and
may have ``results.json`` (``{"dataset": name, "metrics": {name: value}}``, written by the
evaluation stage) and ``hparams.yaml`` (the training configuration).
"""
import json
import os

import yaml

MODEL_FILE = "best_model.pth"
RESULTS_FILE = "results.json"
HPARAMS_FILE = "hparams.yaml"


def read_experiment(exp_dir):
    """The model and the model card's inputs (``results``, ``training``) of an experiment folder.

    Raises:
        FileNotFoundError: no folder, or no ``best_model.pth`` in it.
        ValueError: a results file that is not ``{"dataset": ..., "metrics": {...}}``.
    """
    from .models import DeepMaskEncoderMaskerDecoder

    path = os.path.join(exp_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No {MODEL_FILE} in {exp_dir!r}: an experiment folder holds {MODEL_FILE} (the best model, "
            f"from serialize()) and optionally {RESULTS_FILE} and {HPARAMS_FILE}."
        )
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(path)
    card = {}
    results_path = os.path.join(exp_dir, RESULTS_FILE)
    if os.path.isfile(results_path):
        with open(results_path) as f:
            results = json.load(f)
        if not isinstance(results, dict) or "dataset" not in results or not isinstance(results.get("metrics"), dict):
            raise ValueError(f"{results_path} must hold {{\"dataset\": name, \"metrics\": {{name: value}}}}.")
        card["results"] = results
    hparams_path = os.path.join(exp_dir, HPARAMS_FILE)
    if os.path.isfile(hparams_path):
        with open(hparams_path) as f:
            card["training"] = yaml.safe_load(f)
    return model, card
