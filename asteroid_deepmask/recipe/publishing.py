"""Publishing a recipe's experiment folder: its hub folder, written or uploaded.

An experiment folder has ``best_model.pth`` (the best model, written with ``serialize()``), and
may have ``results.json`` (``{"dataset": name, "metrics": {name: value}}``, written by the
evaluation stage) and ``hparams.yaml`` (the training configuration); they become the hub folder's
weights and model card (:func:`~asteroid_deepmask.hub.save_pretrained`). ``asteroid-deepmask
publish`` calls :func:`write_hub_folder` (``--dry-run``) or :func:`upload_experiment`, and the
recipes' stage 4 calls :func:`package_experiment`.
"""
import json
import os
import shutil

import yaml

from ..experiment.folder import HPARAMS as HPARAMS_FILE, HUB as HUB_DIR, MODEL as MODEL_FILE, RESULTS as RESULTS_FILE
from ..hub import HUB_FILES, ONNX_NAME, measure_complexity, push_to_hub, save_pretrained
from ..models.pretrained import STREAMING_ONNX_NAME, WEB_DIR

#: Block of the streaming step that stage 4 writes into a causal model's hub folder.
STREAMING_BLOCK_MS = 10
from ..models import DeepMaskEncoderMaskerDecoder


def read_experiment(exp_dir):
    """The model and the model card's inputs (``results``, ``training``, ``complexity`` measured on
    4 s) of an experiment folder.

    Raises:
        FileNotFoundError: no folder, or no ``best_model.pth`` in it.
        ValueError: a results file that is not ``{"dataset": ..., "metrics": {...}}``.
    """
    path = os.path.join(exp_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No {MODEL_FILE} in {exp_dir!r}: an experiment folder holds {MODEL_FILE} (the best model, "
            f"from serialize()) and optionally {RESULTS_FILE} and {HPARAMS_FILE}."
        )
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(path)
    card = {"complexity": measure_complexity(model)}
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


def write_hub_folder(exp_dir, out, **options):
    """Write the hub folder of the experiment ``exp_dir`` into ``out``; returns ``out``.

    ``options`` go to :func:`~asteroid_deepmask.hub.save_pretrained` (``license``, ``onnx``, ``web``, ...).
    """
    model, card = read_experiment(exp_dir)
    save_pretrained(model, out, **card, **options)
    return out


def upload_experiment(exp_dir, repo_id, **options):
    """Upload the hub folder of the experiment ``exp_dir`` to the hub repository ``repo_id``.

    ``options`` go to :func:`~asteroid_deepmask.hub.push_to_hub` (``private``, ``license``, ``onnx``, ``web``, ...);
    returns what it returns (huggingface_hub's commit info).
    """
    model, card = read_experiment(exp_dir)
    return push_to_hub(model, repo_id, **card, **options)


def package_experiment(exp_dir):
    """Stage 4: ``exp_dir/hub`` rebuilt from the experiment's current model; returns its path. A causal
    model's folder also holds its streaming step, ``model_streaming.onnx`` (blocks of 10 ms), and not the
    browser page (14 MB of WebAssembly; ``asteroid-deepmask publish --web`` adds it). A page a ``publish
    --dry-run --web`` wrote there goes with the rest: it ran the previous model.

    Raises:
        ValueError: that folder holds files the hub writer does not make (they are never removed).
    """
    out = os.path.join(exp_dir, HUB_DIR)
    if os.path.isdir(out):
        if not set(os.listdir(out)) <= {*HUB_FILES, ONNX_NAME, STREAMING_ONNX_NAME, WEB_DIR}:
            raise ValueError(f"{out!r} holds files this step did not write; move them away first.")
        shutil.rmtree(out)
    model, card = read_experiment(exp_dir)
    save_pretrained(model, out, **card, streaming_block_ms=STREAMING_BLOCK_MS if model.causal else None)
    return out
