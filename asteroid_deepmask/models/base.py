"""Behaviour shared by the package's encoder-masker-decoder models.

Input checks with errors that say what to change, P-output separation for dynamic grouping,
and serialisation that torch's weights-only loader accepts (Asteroid 0.7.0 stores a pickled
``TorchVersion``, which torch >= 2.6 refuses to load).
"""
import os
import pickle
import re
import zipfile

import torch
from asteroid_filterbanks import make_enc_dec
from asteroid.models.base_models import BaseEncoderMaskerDecoder, _shape_reconstructed, _unsqueeze_to_3d
from asteroid.utils.torch_utils import pad_x_to_y

from .. import __version__
from .registry import get_model_class

_PLAIN_TYPES = (str, int, float, bool, type(None))
#: Model arguments that configure the filterbanks, not the masker.
FILTERBANK_ARGS = ("fb_name", "kernel_size", "n_filters", "stride", "encoder_activation", "sample_rate")


def _check_plain(value, where):
    """Raise if ``value`` holds anything a weights-only loader would refuse to read back."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; model args must be plain.")
            _check_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN_TYPES):
        raise TypeError(
            f"{where}={value!r} is a {type(value).__name__}; model args must be str, int, float, "
            "bool, None, lists or dicts so that weights-only loading can read them."
        )


def load_checkpoint(path):
    """Read a serialised model with ``weights_only=True``; never unpickles arbitrary objects.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is corrupt, truncated, not a torch checkpoint, or holds objects
            that weights-only loading refuses (an untrusted or foreign pickle).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}: give the path of a file written by serialize().")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"Refusing to load {path!r}: it holds objects that weights-only loading does not "
            f"allow ({str(err).splitlines()[0]}). Re-save it with serialize() from this package; "
            "only load pickles you trust, and never with weights_only=False."
        ) from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"Cannot read {path!r} as a torch checkpoint: the file is corrupt or truncated "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'})."
        ) from err


def _looks_like_repo_id(source):
    """``user/name`` that is no local path: a hub repository id."""
    source = os.fspath(source)
    return (
        not os.path.exists(source)
        and re.fullmatch(r"[\w.-]+/[\w.-]+", source) is not None
        and not source.endswith((".pth", ".pt", ".bin", ".ckpt"))
    )


class DeepMaskEncoderMaskerDecoder(BaseEncoderMaskerDecoder):
    """Base class of the package's models: an Asteroid ``BaseEncoderMaskerDecoder`` whose masker
    has ``forward_outputs`` (P masks before grouping).

    Subclasses call :meth:`_assemble` with their ``__init__`` arguments so that
    :meth:`get_model_args` round-trips through ``__init__``.
    """

    def _assemble(self, masker_class, model_args, fb_kwargs):
        """Build the filterbanks from ``model_args`` and ``masker_class(n_feats, **the other
        args)``, and remember ``model_args`` (the subclass's ``__init__`` arguments) for round
        trips."""
        encoder, decoder = make_enc_dec(
            model_args["fb_name"],
            kernel_size=model_args["kernel_size"],
            n_filters=model_args["n_filters"],
            stride=model_args["stride"],
            sample_rate=model_args["sample_rate"],
            **fb_kwargs,
        )
        masker = masker_class(encoder.n_feats_out, **{k: v for k, v in model_args.items() if k not in FILTERBANK_ARGS})
        BaseEncoderMaskerDecoder.__init__(self, encoder, masker, decoder, model_args["encoder_activation"])
        model_args = {**model_args, **fb_kwargs}
        _check_plain(model_args, "model_args")
        self._model_args = model_args

    def get_model_args(self):
        """Arguments that rebuild this model through ``__init__``."""
        return dict(self._model_args)

    def _check_waveform(self, wav):
        if not torch.is_tensor(wav):
            raise ValueError(f"{type(self).__name__} expects a torch.Tensor waveform, got {type(wav).__name__}.")
        name = type(self).__name__
        if wav.dim() not in (1, 2, 3):
            raise ValueError(
                f"{name} expects a waveform of shape [time], [batch, time] or [batch, 1, time]; "
                f"got {wav.dim()} dimensions, shape {tuple(wav.shape)}."
            )
        if wav.dim() == 3 and wav.shape[1] != self.in_channels:
            raise ValueError(
                f"{name} separates single-channel audio but got {wav.shape[1]} channels "
                f"(shape {tuple(wav.shape)}); pass [batch, {self.in_channels}, time]: pick one "
                "channel (wav[:, :1]) or downmix (wav.mean(1, keepdim=True))."
            )
        kernel = self.encoder.filterbank.kernel_size
        if wav.shape[-1] < kernel:
            raise ValueError(
                f"{name} got a clip of {wav.shape[-1]} samples, shorter than the encoder kernel "
                f"({kernel} samples at {self.sample_rate} Hz); give at least {kernel} samples."
            )

    def _separate(self, wav, masker_fn):
        self._check_waveform(wav)
        shape = torch.tensor(wav.shape)
        wav = _unsqueeze_to_3d(wav)
        tf_rep = self.forward_encoder(wav)
        masked = self.apply_masks(tf_rep, masker_fn(tf_rep))
        return _shape_reconstructed(pad_x_to_y(self.forward_decoder(masked), wav), shape)

    def forward(self, wav):
        """Separate ``wav`` (``[time]``, ``[batch, time]`` or ``[batch, 1, time]``) into
        ``[batch, n_src, time]`` (``[n_src, time]`` for a 1-D input)."""
        return self._separate(wav, self.masker)

    def forward_outputs(self, wav):
        """The P waveforms before grouping, ``[batch, n_outputs, time]``.

        The decoder is linear, so summing these in contiguous groups gives :meth:`forward`'s
        output; a loss may group them differently (dynamic grouping).
        """
        return self._separate(wav, self.masker.forward_outputs)

    def serialize(self):
        """Model package with plain types only (loadable with ``torch.load(weights_only=True)``).

        Keys: ``model_name``, ``state_dict``, ``model_args``, ``infos``; the layout of Asteroid's
        ``BaseModel.serialize`` so that ``asteroid.models.BaseModel.from_pretrained`` reads it.
        """
        import asteroid

        return dict(
            model_name=type(self).__name__,
            state_dict=self.get_state_dict(),
            model_args=self.get_model_args(),
            infos=dict(
                software_versions=dict(
                    torch_version=str(torch.__version__),
                    asteroid_version=str(asteroid.__version__),
                    asteroid_deepmask_version=__version__,
                )
            ),
        )

    def save_pretrained(self, folder, **card):
        """Write a hub folder (safetensors weights, config, Asteroid package, model card).

        ``card``: ``results``, ``training``, ``license``, ``complexity_seconds`` of
        :func:`asteroid_deepmask.hub.save_pretrained`.
        """
        from ..hub import save_pretrained

        return save_pretrained(self, folder, **card)

    def push_to_hub(self, repo_id, **kwargs):
        """Upload a hub folder of this model to ``repo_id``; see :func:`asteroid_deepmask.hub.push_to_hub`."""
        from ..hub import push_to_hub

        return push_to_hub(self, repo_id, **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_conf_or_path, *args, revision=None, **kwargs):
        """Build a model from a hub folder, a hub repository id, a serialised file or its dict.

        Called on a concrete class, the source must hold that class; called on this base class,
        the class named in the source is used. ``kwargs`` override the stored model args of a
        serialised file or dict; ``revision`` picks a hub revision.

        Example:
            >>> import tempfile, os, torch
            >>> from asteroid_deepmask import DPRNNDeepMask
            >>> model = DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1)
            >>> path = os.path.join(tempfile.mkdtemp(), "model.pth")
            >>> torch.save(model.serialize(), path)
            >>> type(DPRNNDeepMask.from_pretrained(path)).__name__
            'DPRNNDeepMask'
        """
        conf = pretrained_model_conf_or_path
        if isinstance(conf, (str, os.PathLike)) and (os.path.isdir(conf) or _looks_like_repo_id(conf)):
            from ..hub import load_pretrained

            expected = None if cls is DeepMaskEncoderMaskerDecoder else cls
            return load_pretrained(os.fspath(conf), revision=revision, expected_class=expected)
        if isinstance(conf, (str, os.PathLike)):
            conf = load_checkpoint(conf)
        if not isinstance(conf, dict):
            raise ValueError(f"Expected a model package dict, got {type(conf).__name__}.")
        missing = [k for k in ("model_name", "model_args", "state_dict") if k not in conf]
        if missing:
            raise ValueError(
                f"Not a model package: keys {missing} are missing (found {sorted(conf)}); "
                "write it with model.serialize()."
            )
        stored = conf["model_name"]
        if cls is DeepMaskEncoderMaskerDecoder:
            target = get_model_class(stored)
        elif stored != cls.__name__:
            raise ValueError(
                f"This checkpoint holds a {stored}, not a {cls.__name__}: load it with "
                f"{stored}.from_pretrained(...) or asteroid.models.BaseModel.from_pretrained(...)."
            )
        else:
            target = cls
        model = target(*args, **{**conf["model_args"], **kwargs})
        model.load_state_dict(conf["state_dict"])
        return model
