"""Behaviour shared by the package's encoder-masker-decoder models.

Input checks with errors that say what to change, P-output separation for dynamic grouping
(through Asteroid's public hooks), and serialisation that torch's weights-only
loader accepts (Asteroid 0.7.0 stores a pickled ``TorchVersion``, which torch >= 2.6 refuses).
"""
import os

import numpy as np
import torch
from torch.nn import functional as F
from asteroid.models.base_models import BaseEncoderMaskerDecoder
from asteroid.utils.torch_utils import pad_x_to_y

from ..version import __version__
from . import hub_folder
from ..losses.mixture_consistency import WEIGHTS as CONSISTENCY_WEIGHTS, mixture_consistency
from ..masknn.heads import group_outputs
from .pretrained import MODEL_FILES, check_plain, load_checkpoint, load_pretrained, looks_like_repo_id
from .registry import get_model_class
from .source_counting import ACTIVE_THRESHOLD_DB, active_sources


class DeepMaskEncoderMaskerDecoder(BaseEncoderMaskerDecoder):
    """Base class of the package's models: an Asteroid ``BaseEncoderMaskerDecoder`` whose masker
    has ``forward_outputs`` (P masks before grouping).

    Subclasses pass their ``__init__`` arguments to :meth:`_set_model_args` so that
    :meth:`get_model_args` round-trips through ``__init__``.

    Args:
        encoder, masker, decoder, encoder_activation: as Asteroid's ``BaseEncoderMaskerDecoder``;
            the masker has ``n_src``, ``forward`` (C masks) and ``forward_outputs`` (P masks).
        mixture_consistency (str, optional): None, or how the P outputs are projected to sum to the
            input (``"uniform"`` or ``"power"``: :func:`~asteroid_deepmask.losses.mixture_consistency`).
    """

    def __init__(self, encoder, masker, decoder, encoder_activation=None, mixture_consistency=None):
        super().__init__(encoder, masker, decoder, encoder_activation)
        if mixture_consistency is not None and mixture_consistency not in CONSISTENCY_WEIGHTS:
            raise ValueError(f"mixture_consistency={mixture_consistency!r}; choose None (no projection) or one of "
                             f"{', '.join(CONSISTENCY_WEIGHTS)}.")
        self.mixture_consistency = mixture_consistency
        self._model_args = {}

    def consistency_args(self):
        """``{"mixture_consistency": ...}`` for the model args when the model projects its outputs, else ``{}``
        (so that configs of models without the projection stay as they were)."""
        return {} if self.mixture_consistency is None else {"mixture_consistency": self.mixture_consistency}

    def _set_model_args(self, model_args):
        check_plain(model_args, "model_args")
        self._model_args = dict(model_args)

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
        if not torch.jit.is_tracing() and wav.shape[-1] < kernel:  # traced lengths are tensors
            raise ValueError(
                f"{name} got a clip of {wav.shape[-1]} samples, shorter than the encoder kernel "
                f"({kernel} samples at {self.sample_rate} Hz); give at least {kernel} samples."
            )

    @property
    def causal(self):
        """True when no output sample depends on input beyond the encoder's window: the model streams."""
        return bool(getattr(self.masker.trunk, "causal", False))

    def forward_encoder(self, wav):
        """Asteroid's hook; a causal model's frames end at multiples of the stride (its first frame
        covers ``kernel_size - stride`` zeros), so that a stream's blocks complete whole frames."""
        return super().forward_encoder(F.pad(wav, (self._causal_padding(), 0)))

    def forward_decoder(self, masked_tf_rep):
        """Asteroid's hook, less the samples before the input's start that a causal model's first frame made."""
        return super().forward_decoder(masked_tf_rep)[..., self._causal_padding():]

    def _causal_padding(self):
        return self.encoder.filterbank.kernel_size - self.encoder.stride if self.causal else 0

    def streamer(self):
        """A :class:`~asteroid_deepmask.deployment.streaming.Streamer` of this causal model: live separation
        block by block (``process``, ``flush``, ``latency``, ``reset``), equal to :meth:`forward` on the whole input.

        Raises:
            ValueError: the model is not causal (build it with ``causal=True``).
        """
        from ..deployment.streaming import Streamer

        return Streamer(self)

    def forward(self, wav):
        """Separate ``wav`` (``[time]``, ``[batch, time]`` or ``[batch, 1, time]``) into
        ``[batch, n_src, time]`` (``[n_src, time]`` for a 1-D input)."""
        self._check_waveform(wav)
        if self.mixture_consistency is None:
            return super().forward(wav)
        # the projected outputs, grouped as the masker groups its masks
        sources = group_outputs(self.forward_outputs(wav.reshape(-1, 1, wav.shape[-1])), self.masker.n_src)
        return sources[0] if wav.dim() == 1 else sources

    def separate(self, wav, *args, **kwargs):
        """Asteroid's ``separate`` (a waveform tensor or array, or a file name), with a waveform checked
        first: finite samples of the model's dtype, ``[time]``, ``[batch, time]`` or ``[batch, 1, time]``.

        It behaves as Asteroid's does, for code written for Asteroid: the whole input in one pass,
        estimates rescaled so that their summed magnitude is the mixture's, and a file name
        separated into ``<name>_est1.wav`` ... next to it (or in ``output_dir``). For files, long
        ones included, use :func:`asteroid_deepmask.deployment.long_files.separate_files` or
        ``asteroid-deepmask separate``: windows of bounded memory, ``<name>_s1.wav`` ... in an
        output folder, unscaled, every input checked and nothing overwritten unless asked; the
        same on ONNX and TorchScript exports.

        Returns:
            ``[batch, n_src, time]`` (``[n_src, time]`` for ``[time]``), of the input's type.

        Example:
            >>> from asteroid_deepmask import DPRNNDeepMask
            >>> DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1).separate(torch.full((800,), float("nan")))
            Traceback (most recent call last):
            ...
            ValueError: The waveform holds 800 NaN or infinite samples out of 800; separate finite audio (check how it was read or computed).
        """
        if isinstance(wav, (torch.Tensor, np.ndarray)):
            self._check_samples(torch.as_tensor(wav))
            if wav.ndim == 1:  # Asteroid's separate reads the channel axis
                return super().separate(wav[None], *args, **kwargs)[0]
        return super().separate(wav, *args, **kwargs)

    def _check_samples(self, wav):
        self._check_waveform(wav)
        dtype = next(self.parameters()).dtype
        if wav.dtype != dtype:
            raise ValueError(f"{type(self).__name__} takes {dtype} samples, got {wav.dtype}: convert them first "
                             "(16-bit integers: divide by 32768).")
        bad = int((~torch.isfinite(wav)).sum())
        if bad:
            raise ValueError(f"The waveform holds {bad} NaN or infinite samples out of {wav.numel()}; separate "
                             "finite audio (check how it was read or computed).")

    def forward_outputs(self, wav):
        """The P waveforms before grouping, ``[batch, n_outputs, time]`` (``[n_outputs, time]`` for ``[time]``).

        :meth:`forward` with the masker's ``forward_outputs`` (P masks) in place of its grouped
        masks, through Asteroid's hooks ``forward_encoder``, ``apply_masks`` and
        ``forward_decoder``. The decoder is linear, so summing these in contiguous groups gives
        :meth:`forward`'s output; a loss may group them differently (dynamic grouping). With
        ``mixture_consistency`` they are projected to sum to the input.
        """
        self._check_waveform(wav)
        batched = wav.reshape(-1, 1, wav.shape[-1])  # [time], [batch, time] or [batch, 1, time]
        tf_rep = self.forward_encoder(batched)
        decoded = self.forward_decoder(self.apply_masks(tf_rep, self.masker.forward_outputs(tf_rep)))
        outputs = pad_x_to_y(decoded, batched)
        if self.mixture_consistency is not None:
            outputs = mixture_consistency(outputs, batched, self.mixture_consistency)
        return outputs[0] if wav.dim() == 1 else outputs

    def count_sources(self, wav, threshold_db=ACTIVE_THRESHOLD_DB):
        """How many sources each mixture holds: its P outputs (:meth:`forward_outputs`) whose distinct energy
        (blind to a residual that a mixture-consistency projection adds to every output) relative to the
        mixture is above ``threshold_db`` (:func:`~.source_counting.active_outputs`, the rule of
        ``separate --active-only`` too).

        Meaningful for an overseparated model trained to leave unused outputs silent (MixIT, dynamic
        grouping); a model with P = C counts at most C.

        Args:
            wav (torch.Tensor or str): ``[time]``, ``[batch, time]`` or ``[batch, 1, time]``; or an audio file's
                path, read at the model's rate (channels averaged, as reference-free evaluation reads them).
            threshold_db (float): dB relative to the mixture; defaults to -20 (see
                :mod:`~asteroid_deepmask.models.source_counting` for why).

        Returns:
            list of int (one per item), or an int for a ``[time]`` input.

        Example:
            >>> from asteroid_deepmask import DPRNNDeepMask
            >>> DPRNNDeepMask(n_src=2, n_outputs=4, hid_size=8, n_repeats=1).count_sources(torch.zeros(2, 800))
            [0, 0]
        """
        if isinstance(wav, (str, os.PathLike)):
            from ..utils.audio_files import read_mono

            wav = read_mono(os.fspath(wav), self.sample_rate, downmix=True).to(next(self.parameters()).device)
        with torch.no_grad():
            outputs = self.forward_outputs(wav)
        if outputs.dim() == 2:
            return len(active_sources(outputs, wav, threshold_db))
        return [len(active) for active in active_sources(outputs, wav.reshape(outputs.shape[0], -1), threshold_db)]

    def export(self, path, format=None, opset=None, quantize=None):
        """Write this model as an ONNX or TorchScript file with its metadata; returns ``path``.

        The file maps ``[batch, time]`` to ``[batch, n_src, time]`` for any batch and length; see
        :func:`asteroid_deepmask.deployment.export.export_model` (the format follows the suffix,
        ``.onnx`` or ``.pt``, unless given; ``quantize="int8"`` for dynamic int8).
        """
        from ..deployment.export import export_model

        return export_model(self, path, format=format, opset=opset, quantize=quantize)

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

    # Hugging Face's model methods (huggingface_hub.PyTorchModelHubMixin's names): the functions of
    # asteroid_deepmask.hub themselves, so that the method and the function cannot drift apart.
    save_pretrained = hub_folder.save_pretrained
    push_to_hub = hub_folder.push_to_hub

    @classmethod
    def from_pretrained(cls, pretrained_model_conf_or_path, *args, revision=None, cache_dir=None, force_download=False,
                        local_files_only=False, token=None, **kwargs):
        """Build a model from a hub folder, a hub repository id, a serialised file or its dict.

        Called on a concrete class, the source must hold that class; called on this base class,
        the class named in the source is used. ``kwargs`` override the stored model args.
        ``revision``, ``cache_dir``, ``force_download``, ``local_files_only`` and ``token`` are
        huggingface_hub's download options, for a hub repository id.

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
        if isinstance(conf, (str, os.PathLike)) and (os.path.isdir(conf) or looks_like_repo_id(conf)):
            expected = None if cls is DeepMaskEncoderMaskerDecoder else cls
            return load_pretrained(os.fspath(conf), revision=revision, expected_class=expected, model_args=kwargs,
                                   cache_dir=cache_dir, force_download=force_download,
                                   local_files_only=local_files_only, token=token)
        source = "The model package"
        if isinstance(conf, (str, os.PathLike)):
            source = repr(os.fspath(conf))
            conf = load_checkpoint(conf)
        if not isinstance(conf, dict):
            raise ValueError(f"{source} is a {type(conf).__name__}, not a model package dict; "
                             f"a model is {MODEL_FILES}.")
        missing = [k for k in ("model_name", "model_args", "state_dict") if k not in conf]
        if missing:
            raise ValueError(
                f"{source} is not a model package: keys {missing} are missing (found {sorted(map(str, conf))}); "
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
