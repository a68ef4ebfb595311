"""Hugging Face hub folders: save, load and publish the package's models.

A hub folder holds ``model.safetensors`` (the weights), ``config.json`` (class name, model
arguments, and parameters and MACs when measured: :func:`measure_complexity`),
``pytorch_model.bin`` (Asteroid's model package, plain types only, for
``asteroid.models.BaseModel.from_pretrained``), a model card ``README.md`` and, on request,
``model.onnx`` (an export for ONNX Runtime, :mod:`asteroid_deepmask.deployment.export`) and, for a causal
model, ``web/`` (the live browser page, :mod:`asteroid_deepmask.deployment.web`).

:func:`save_pretrained` and :func:`push_to_hub` are the functions behind every model's methods
of the same names (``save_pretrained(model, folder)`` is ``model.save_pretrained(folder)``);
they live in :mod:`asteroid_deepmask.models.hub_folder` so that models do not import this module.
Loading (``Model.from_pretrained``, :mod:`asteroid_deepmask.models.pretrained`) reads the
safetensors weights and the JSON config: nothing is unpickled.
"""
from .complexity import count_complexity
from .models.hub_folder import push_to_hub, save_pretrained
from .models.model_card import model_card
from .models.pretrained import HUB_FILES, ONNX_NAME

__all__ = ["HUB_FILES", "ONNX_NAME", "measure_complexity", "model_card", "push_to_hub", "save_pretrained"]


def measure_complexity(model, seconds=4.0):
    """Parameters (all, millions) and MACs (the paper's counting, giga) of ``model`` on a
    ``seconds`` input: the ``complexity`` record of :func:`save_pretrained` and the model card.

    Example:
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> sorted(measure_complexity(DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1), seconds=0.5))
        ['macs_g', 'params_m', 'seconds']
    """
    counts = count_complexity(model, seconds=seconds)
    return dict(seconds=seconds, params_m=round(counts["params_total_m"], 4), macs_g=round(counts["macs_g"], 4))
