"""Export to a SpeechBrain pretrained folder, loadable by
``speechbrain.inference.separation.SepformerSeparation.from_hparams(source=folder)``.

The folder holds ``hyperparams.yaml`` (``Encoder``, ``MaskNet``, ``Decoder``, ``modules``,
``pretrainer``, ``sample_rate``, ``num_spks``), ``encoder.ckpt``, ``masknet.ckpt``,
``decoder.ckpt`` (plain state dicts) and a model card ``README.md``, written whole
(:func:`~asteroid_deepmask.utils.atomic.atomic_paths`): a killed export leaves the previous files.
"""
import os
import re

import torch
import yaml

from ..utils.atomic import atomic_paths
from .filterbanks import FilterbankDecoder, FilterbankEncoder
from .masknets import MaskNet

_TAIL = """
modules:
    encoder: !ref <Encoder>
    masknet: !ref <MaskNet>
    decoder: !ref <Decoder>

pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        encoder: !ref <Encoder>
        masknet: !ref <MaskNet>
        decoder: !ref <Decoder>
"""
_CARD = """---
library_name: speechbrain
tags:
- speechbrain
- asteroid-deepmask
- audio-to-audio
- audio-source-separation
---

# {title}

A separation model exported by asteroid-deepmask for SpeechBrain's separation interface.

```python
from speechbrain.inference.separation import SepformerSeparation

model = SepformerSeparation.from_hparams(source="<this folder or repository>", savedir="pretrained")
estimates = model.separate_file("mix.wav")  # [batch, time, {num_spks}] at {sample_rate:g} Hz
```

`import asteroid_deepmask` must work in the environment (the modules come from it).
"""


def _new_block(key, target, kwargs):
    body = yaml.safe_dump(kwargs, sort_keys=False).strip().replace("\n", "\n    ")
    return f"{key}: !new:{target}\n    {body}\n"


def _write(folder, hyperparams, modules, title, sample_rate, num_spks, force):
    if os.path.exists(os.path.join(folder, "hyperparams.yaml")) and not force:
        raise ValueError(f"{folder!r} already holds an export; pass force=True to overwrite it.")
    os.makedirs(folder, exist_ok=True)
    names = ["hyperparams.yaml", "README.md", *(f"{name}.ckpt" for name in modules)]
    with atomic_paths(*(os.path.join(folder, name) for name in names)) as temps:
        hyperparams_path, card_path, *checkpoints = temps
        with open(hyperparams_path, "w") as f:
            f.write(hyperparams + _TAIL)
        with open(card_path, "w") as f:
            f.write(_CARD.format(title=title, num_spks=num_spks, sample_rate=sample_rate))
        for module, path in zip(modules.values(), checkpoints):
            torch.save(module.state_dict(), path)
    return folder


def export_model_to_speechbrain(model, folder, force=False):
    """Export one of the package's models (``DeepMaskTasNet`` and its presets) with its weights: Asteroid filterbanks and our masker, wrapped
    in SpeechBrain's interfaces. Returns the folder.

    Example:
        >>> import tempfile
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> folder = export_model_to_speechbrain(DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1), tempfile.mkdtemp())
        >>> sorted(os.listdir(folder))
        ['README.md', 'decoder.ckpt', 'encoder.ckpt', 'hyperparams.yaml', 'masknet.ckpt']
    """
    fb_args = model.get_filterbank_args()
    activation = fb_args.pop("encoder_activation")
    masker_args = model.masker.get_config()
    encoder = FilterbankEncoder(**fb_args, encoder_activation=activation)
    decoder = FilterbankDecoder(**fb_args)
    masknet = MaskNet(**masker_args)
    encoder.encoder.load_state_dict(model.encoder.state_dict())
    decoder.decoder.load_state_dict(model.decoder.state_dict())
    masknet.masker.load_state_dict(model.masker.state_dict())
    hyperparams = "\n".join(
        [
            f"sample_rate: {float(model.sample_rate)}",
            f"num_spks: {model.masker.n_src}",
            "",
            _new_block("Encoder", "asteroid_deepmask.speechbrain.FilterbankEncoder",
                       {**fb_args, "encoder_activation": activation}),
            _new_block("MaskNet", "asteroid_deepmask.speechbrain.MaskNet", masker_args),
            _new_block("Decoder", "asteroid_deepmask.speechbrain.FilterbankDecoder", fb_args),
        ]
    )
    modules = {"encoder": encoder, "masknet": masknet, "decoder": decoder}
    return _write(folder, hyperparams, modules, type(model).__name__, model.sample_rate, model.masker.n_src, force)


def _top_level_blocks(text):
    """``{key: block text}`` of a YAML file's top-level keys, in file order."""
    blocks, key = {}, None
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_][\w]*)\s*:", line)
        if match:
            key = match.group(1)
            blocks[key] = []
        if key is not None:
            blocks[key].append(line)
    return {k: "\n".join(v).rstrip() + "\n" for k, v in blocks.items()}


def export_speechbrain(hparams_file, modules, folder, force=False):
    """Export modules trained by a SpeechBrain recipe from one of our HyperPyYAML files.

    The ``Encoder``, ``MaskNet`` and ``Decoder`` definitions, with every key they reference
    (``!ref <key>``), are copied from ``hparams_file``; ``modules`` (``encoder``, ``masknet``,
    ``decoder``: the trained objects, e.g. ``brain.modules``) give the weights. Returns the folder.
    """
    with open(hparams_file) as f:
        blocks = _top_level_blocks(f.read())
    missing = [k for k in ("Encoder", "MaskNet", "Decoder", "sample_rate", "num_spks") if k not in blocks]
    if missing:
        raise ValueError(f"{hparams_file} has no top-level {missing}: not a separation hparams file.")
    needed, queue = set(), ["sample_rate", "num_spks", "Encoder", "MaskNet", "Decoder"]
    while queue:
        key = queue.pop()
        if key in needed or key not in blocks:
            continue
        needed.add(key)
        queue += re.findall(r"!ref <([\w]+)", blocks[key])
    hyperparams = "\n".join(block for key, block in blocks.items() if key in needed)
    sample_rate = float(yaml.safe_load(blocks["sample_rate"])["sample_rate"])
    num_spks = yaml.safe_load(blocks["num_spks"])["num_spks"]
    chosen = {name: modules[name] for name in ("encoder", "masknet", "decoder")}
    return _write(folder, hyperparams, chosen, os.path.basename(hparams_file), sample_rate, num_spks, force)
