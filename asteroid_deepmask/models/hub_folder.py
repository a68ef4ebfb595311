"""Writing a model as a Hugging Face hub folder, and uploading it: ``save_pretrained`` and
``push_to_hub``, the methods ``huggingface_hub.PyTorchModelHubMixin`` gives a model.

Every model has them as methods (``model.save_pretrained(folder)``), and
:mod:`asteroid_deepmask.hub` gives the same functions (``save_pretrained(model, folder)``).
The folder holds the files of :data:`~asteroid_deepmask.models.pretrained.HUB_FILES` (and
``model.onnx`` and the live browser page ``web/`` on request); :mod:`asteroid_deepmask.models.pretrained`
reads it back. The files are written under temporary names and renamed together once all are complete,
so a killed save leaves the previous folder or the new one, never a mix or a truncated file (the page
is built first, beside the folder, and moved in right after the files).
"""
import contextlib
import json
import os
import shutil
import tempfile

import torch

from ..utils.atomic import atomic_paths, scratch_folder
from ..version import __version__
from .model_card import model_card
from .pretrained import (ASTEROID_WEIGHTS_NAME, CARD_NAME, CONFIG_NAME, ONNX_NAME, STREAMING_ONNX_NAME, WEB_DIR,
                         WEIGHTS_NAME)

#: The keys of the ``complexity`` record a hub folder's config and card report.
COMPLEXITY_KEYS = ("seconds", "params_m", "macs_g")


def _check_complexity(complexity):
    if complexity is not None and (not isinstance(complexity, dict) or not set(COMPLEXITY_KEYS) <= set(complexity)):
        raise ValueError(
            f"complexity={complexity!r} is not a record of {', '.join(COMPLEXITY_KEYS)}: pass "
            "asteroid_deepmask.hub.measure_complexity(model, seconds), or None to leave it out of the card."
        )


def save_pretrained(model, save_directory, results=None, training=None, license="cc-by-sa-4.0", complexity=None,
                    onnx=False, streaming_block_ms=None, web=False, web_runtime=None):
    """Write ``model`` as a hub folder in ``save_directory`` (created if missing); returns it.

    The folder holds ``model.safetensors`` (the weights), ``config.json`` (class name, model
    arguments, sample rate, package version), ``pytorch_model.bin`` (Asteroid's model package,
    plain types only, for ``asteroid.models.BaseModel.from_pretrained``) and a model card
    ``README.md``. Files of an earlier save in the folder are replaced whole.

    Args:
        model (DeepMaskEncoderMaskerDecoder): the model (any device).
        save_directory (str or os.PathLike): the folder.
        results (dict, optional): ``{"dataset": str, "metrics": {name: value}}`` from an
            evaluation, shown in the card and its ``model-index``.
        training (dict, optional): the experiment's hparams, shown in the card as YAML.
        license (str): license identifier of the weights.
        complexity (dict, optional): parameters and MACs to report, as
            :func:`asteroid_deepmask.hub.measure_complexity` returns them (``seconds``,
            ``params_m``, ``macs_g``); the card has no complexity section without it.
        onnx (bool): also write ``model.onnx`` (:func:`asteroid_deepmask.deployment.export.export_model`)
            and its usage in the card.
        streaming_block_ms (float, optional): for a causal model, also write ``model_streaming.onnx``,
            one step of a stream of blocks of this many ms
            (:func:`asteroid_deepmask.deployment.streaming_export.export_streaming_model`), and how to
            stream with it in the card.
        web (bool): for a causal model, also write ``web/``, the page that separates the microphone live in
            the browser (:func:`asteroid_deepmask.deployment.web.build_web_folder`: float32, blocks of 10 ms,
            with onnxruntime-web's 14 MB of WebAssembly), and how to run it in the card.
        web_runtime (str, optional): with ``web``: where onnxruntime-web comes from
            (:func:`asteroid_deepmask.deployment.web_runtime.find_runtime`; by default its cache, else npm).

    Raises:
        ValueError: ``web`` for a model that is not causal (nothing is written), ``web_runtime`` without ``web``,
            or a ``web/`` in the folder that is not a page this package wrote.

    Example:
        >>> import os, tempfile
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> folder = DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1).save_pretrained(tempfile.mkdtemp())
        >>> sorted(os.listdir(folder))
        ['README.md', 'config.json', 'model.safetensors', 'pytorch_model.bin']
        >>> type(DPRNNDeepMask.from_pretrained(folder)).__name__
        'DPRNNDeepMask'
    """
    _check_complexity(complexity)
    if web_runtime is not None and not web:
        raise ValueError("web_runtime is where the page's runtime comes from: add web=True to write the page.")
    folder = os.fspath(save_directory)
    with _built_page(model, folder, web_runtime) if web else contextlib.nullcontext() as page:
        _save_files(model, folder, results, training, license, complexity, onnx, streaming_block_ms, page)
        if page is not None:
            page_dir = os.path.join(folder, WEB_DIR)
            if os.path.isdir(page_dir):  # an earlier save's page (_built_page checked it is one): replaced whole
                shutil.rmtree(page_dir)
            os.replace(page["folder"], page_dir)
    return folder


@contextlib.contextmanager
def _built_page(model, folder, runtime):
    """Yield what :func:`~asteroid_deepmask.deployment.web.build_web_folder` returns, the page built in a scratch
    folder beside ``folder``: a model that cannot stream is refused (with ``web``'s message) before ``folder``
    is touched. The scratch folder goes when the block ends."""
    from ..deployment.web import build_web_folder, made_by_us

    page_dir = os.path.join(folder, WEB_DIR)
    if os.path.lexists(page_dir) and not made_by_us(page_dir):
        raise ValueError(f"{page_dir!r} is not a page this package wrote; move it away to write the page there.")
    with scratch_folder(f"{os.path.abspath(folder)}.{WEB_DIR}") as scratch:
        yield build_web_folder(model, os.path.join(scratch, WEB_DIR), runtime=runtime)


def _save_files(model, folder, results, training, license, complexity, onnx, streaming_block_ms, page):
    """The files of :func:`save_pretrained` (all but the page, ``page`` being what was built of it or None)."""
    from safetensors.torch import save_file

    os.makedirs(folder, exist_ok=True)
    config = dict(
        model_name=type(model).__name__,
        model_args=model.get_model_args(),
        sample_rate=float(model.sample_rate),
        asteroid_deepmask_version=__version__,
    )
    if complexity is not None:
        config["complexity"] = {key: complexity[key] for key in COMPLEXITY_KEYS}
    if results is not None:
        config["results"] = results
    names = [WEIGHTS_NAME, ASTEROID_WEIGHTS_NAME, CONFIG_NAME, CARD_NAME] + ([ONNX_NAME] if onnx else [])
    names += [STREAMING_ONNX_NAME] if streaming_block_ms is not None else []
    with atomic_paths(*(os.path.join(folder, name) for name in names)) as temps:
        paths = dict(zip(names, temps))
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, paths[WEIGHTS_NAME], metadata={"format": "pt"})
        torch.save(model.serialize(), paths[ASTEROID_WEIGHTS_NAME])
        if onnx:
            from ..deployment.export import export_model

            export_model(model, paths[ONNX_NAME], format="onnx")
            config["onnx"] = ONNX_NAME
        if streaming_block_ms is not None:
            from ..deployment.streaming_export import block_samples, export_streaming_model

            block = block_samples(model, streaming_block_ms, name="streaming_block_ms")
            export_streaming_model(model, paths[STREAMING_ONNX_NAME], block, format="onnx")
            config["streaming_onnx"] = dict(file=STREAMING_ONNX_NAME, block=block)
        if page is not None:
            config["web"] = dict(folder=WEB_DIR, block=page["block"])
        with open(paths[CONFIG_NAME], "w") as f:
            json.dump(config, f, indent=2)
        with open(paths[CARD_NAME], "w") as f:
            f.write(model_card(config, results=results, training=training, license=license))


def push_to_hub(model, repo_id, private=None, revision=None, commit_message=None, token=None, create_pr=False,
                **card):
    """Write ``model`` as a hub folder (:func:`save_pretrained`) and upload it to the hub repository
    ``repo_id``, created if missing; returns huggingface_hub's commit information.

    Args:
        model (DeepMaskEncoderMaskerDecoder): the model.
        repo_id (str): ``"user/name"``.
        private (bool, optional): create a missing repository as private.
        revision (str, optional): the branch to upload to; the default branch without it.
        commit_message (str, optional): defaults to the class and package version.
        token (str, optional): a hub token; without it, huggingface_hub's login
            (``hf auth login`` or ``HF_TOKEN``).
        create_pr (bool): open a pull request instead of committing.
        **card: ``results``, ``training``, ``license``, ``complexity``, ``onnx``, ``streaming_block_ms``, ``web``,
            ``web_runtime`` of :func:`save_pretrained`.
    """
    from huggingface_hub import HfApi

    api = HfApi(token=token, library_name="asteroid-deepmask", library_version=__version__)
    with tempfile.TemporaryDirectory() as folder:
        save_pretrained(model, folder, **card)
        api.create_repo(repo_id, private=private, exist_ok=True)
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            revision=revision,
            create_pr=create_pr,
            commit_message=commit_message or f"Upload {type(model).__name__} with asteroid-deepmask {__version__}",
        )
