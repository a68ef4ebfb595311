"""The general model: a filterbank, a registered trunk and a registered mask head."""
import inspect

import asteroid_filterbanks
from asteroid.masknn import activations, norms
from asteroid_filterbanks import make_enc_dec

from ..utils.checks import UnknownArgumentError, check_positive_int
from ..masknn import HEADS, TRUNKS, OverseparationMasker
from .base import DeepMaskEncoderMaskerDecoder
from .registry import register_model


_FILTERBANKS = ("free", "stft", "analytic_free", "param_sinc", "torch_stft", "multiphase_gammatone")
#: Names the ``norm_type`` and ``encoder_activation`` arguments take (Asteroid's registries), for the errors.
_NAMES = {"norm_type": (norms.get, "gLN, cLN, cgLN, bN"),
          "encoder_activation": (activations.get, "relu, prelu, sigmoid")}


def check_asteroid_name(arg, value):
    """Raise a ValueError naming ``arg`` unless Asteroid knows ``value`` (``norm_type``, ``encoder_activation``)."""
    getter, examples = _NAMES[arg]
    try:
        getter(value)
    except ValueError:
        raise ValueError(f"{arg}={value!r} is not one of Asteroid's names; choose e.g. {examples}.") from None


def filterbank_extras(fb_name):
    """Names of the extra filterbank arguments that ``fb_name`` takes (``make_enc_dec``'s and its class's)."""
    try:
        fb_class = asteroid_filterbanks.get(fb_name)
    except ValueError:
        raise ValueError(f"fb_name={fb_name!r} is not an asteroid_filterbanks filterbank; choose one of "
                         f"{list(_FILTERBANKS)}.") from None
    params = {**inspect.signature(make_enc_dec).parameters, **inspect.signature(fb_class.__init__).parameters}
    return {n for n, p in params.items() if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


@register_model
class DeepMaskTasNet(DeepMaskEncoderMaskerDecoder):
    """Encoder -> trunk (P feature maps) -> mask head (P masks, f, sum into C) -> decoder.

    Any registered trunk with any registered head: the built-in trunks are ``"dprnn"`` (the
    paper's DPRNN without output gate), ``"simo_siso"``, ``"sliced_attention"`` and ``"tcn"``
    (Conv-TasNet); the heads ``"linear"`` (shallow, overseparation-grouping when P > C) and
    ``"mlp"`` (the deep mask estimation module). Register your own with
    :func:`~asteroid_deepmask.register_trunk` / :func:`~asteroid_deepmask.register_head`.
    :class:`~asteroid_deepmask.DPRNNDeepMask`, :class:`~asteroid_deepmask.ConvTasNetDeepMask`,
    :class:`~asteroid_deepmask.SimoSisoTasNet` and :class:`~asteroid_deepmask.SlicedAttentionTasNet`
    are this model with a fixed trunk and flat arguments.

    Args:
        n_src (int): number of sources C.
        trunk (str, optional): registered trunk name. Defaults to ``"dprnn"``.
        trunk_args (dict, optional): the trunk's own arguments (its defaults otherwise).
        head (str, optional): registered head name. Defaults to ``"linear"``.
        head_args (dict, optional): the head's own arguments, e.g. ``{"mask_act": "relu",
            "hidden": 64}`` for ``"mlp"``.
        n_outputs (int, optional): outputs P before grouping, a multiple of ``n_src``.
            Defaults to ``n_src``.
        fb_name (str, optional): Asteroid filterbank (``"free"``, ``"stft"``, ...).
            Defaults to ``"free"``.
        kernel_size (int, optional): filter length in samples. Defaults to 16.
        n_filters (int, optional): number of filters N. Defaults to 64.
        stride (int, optional): filterbank hop in samples. Defaults to 8.
        encoder_activation (str, optional): activation after the encoder. Defaults to None.
        sample_rate (float, optional): sample rate of the model. Defaults to 8000.
        mixture_consistency (str, optional): project the P outputs so that they sum to the input
            (:func:`~asteroid_deepmask.losses.mixture_consistency`), sharing the residual ``"uniform"``-ly
            or by ``"power"``; part of the model, so training, evaluation, ``separate`` and exports all
            see the projected outputs. Defaults to None (no projection).
        **fb_kwargs: more filterbank arguments.

    Shapes:
        ``[batch, time]`` or ``[batch, 1, time] -> [batch, n_src, time]``;
        :meth:`forward_outputs` gives ``[batch, n_outputs, time]``.

    Example:
        >>> import torch
        >>> model = DeepMaskTasNet(n_src=2, trunk="dprnn", trunk_args=dict(hid_size=16, n_repeats=1),
        ...                        head="mlp", head_args=dict(hidden=16), n_outputs=4)
        >>> model(torch.randn(1, 800)).shape, model.forward_outputs(torch.randn(1, 800)).shape
        (torch.Size([1, 2, 800]), torch.Size([1, 4, 800]))

    References:
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022.
    """

    def __init__(self, n_src, trunk="dprnn", trunk_args=None, head="linear", head_args=None, n_outputs=None,
                 fb_name="free", kernel_size=16, n_filters=64, stride=8, encoder_activation=None, sample_rate=8000,
                 mixture_consistency=None, **fb_kwargs):
        unknown = sorted(set(fb_kwargs) - filterbank_extras(fb_name))
        if unknown:
            raise UnknownArgumentError(f"DeepMaskTasNet got {unknown}, which the {fb_name!r} filterbank does not "
                                       "take; trunk arguments go in trunk_args and head arguments in head_args.")
        _check_model_arguments(trunk, trunk_args, head, head_args, kernel_size, n_filters, stride, encoder_activation,
                               sample_rate)
        fb_args = dict(fb_name=fb_name, kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                       encoder_activation=encoder_activation, sample_rate=sample_rate, **fb_kwargs)
        encoder, decoder = make_enc_dec(fb_name, kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                                        sample_rate=sample_rate, **fb_kwargs)
        masker = OverseparationMasker.build(encoder.n_feats_out, n_src, trunk, trunk_args, head, head_args, n_outputs)
        super().__init__(encoder, masker, decoder, encoder_activation, mixture_consistency)
        self._filterbank_args = fb_args
        config = masker.get_config()
        self._set_model_args(dict(n_src=n_src, trunk=trunk, trunk_args=config["trunk_args"], head=head,
                                  head_args=config["head_args"], n_outputs=masker.n_outputs, **fb_args,
                                  **self.consistency_args()))

    def get_filterbank_args(self):
        """The filterbank's arguments (``fb_name``, ``kernel_size``, ..., ``encoder_activation``, extras)."""
        return dict(self._filterbank_args)


def _check_model_arguments(trunk, trunk_args, head, head_args, kernel_size, n_filters, stride, encoder_activation,
                           sample_rate):
    for name, value in (("kernel_size", kernel_size), ("n_filters", n_filters), ("stride", stride)):
        check_positive_int(name, value)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float)) or not sample_rate > 0:
        raise ValueError(f"sample_rate must be a positive number of Hz, got sample_rate={sample_rate!r}.")
    if encoder_activation is not None:
        check_asteroid_name("encoder_activation", encoder_activation)
    for kind, name, registry, args in (("trunk", trunk, TRUNKS, trunk_args), ("head", head, HEADS, head_args)):
        if args is not None and not isinstance(args, dict):
            raise ValueError(f"{kind}_args must be a dict of the {kind}'s arguments, got {type(args).__name__} "
                             f"{args!r}.")
        registry.check_arguments(name, args or {})
        if (args or {}).get("norm_type") is not None:
            check_asteroid_name("norm_type", args["norm_type"])
