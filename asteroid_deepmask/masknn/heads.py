"""Mask heads: turn P feature maps of a trunk into P masks, then sum them into C source masks.

A head never sees the trunk that feeds it: its input is a stack of P feature maps
``[batch, n_outputs, in_chan, frames]``, one per output. Its layers (a 1x1 FC layer, or a
3-layer MLP) are either one set shared by the outputs or one copy per output; P copies run
as one grouped 1x1 convolution, never as a Python loop over outputs.
"""
import abc

import torch
from torch import nn

from ..utils.checks import check_positive_int
from .mask_activations import MaskActivation
from .recorded_config import RecordsConfig
from .registry import Registry
from .trunk import apply_projection


def check_grouping(n_outputs, n_src):
    """Validate that ``n_outputs`` (P) outputs can be summed into ``n_src`` (C) equal groups."""
    check_positive_int("n_src", n_src)
    check_positive_int("n_outputs", n_outputs)
    if n_outputs < n_src or n_outputs % n_src:
        raise ValueError(
            f"n_outputs={n_outputs} cannot be grouped into n_src={n_src} sources: P must be a "
            f"multiple of C (allowed here: {n_src}, {2 * n_src}, {3 * n_src}, ...)."
        )


def group_outputs(outputs, n_src):
    """Sum P outputs in C contiguous groups (outputs ``0..P/C-1`` make source 0, and so on).

    This is the paper's deterministic grouping; with ``P == C`` it is the identity.

    Args:
        outputs (torch.Tensor): ``[batch, n_outputs, ...]`` (masks or waveforms).
        n_src (int): number of groups C; must divide ``n_outputs``.

    Returns:
        torch.Tensor: ``[batch, n_src, ...]``.

    Example:
        >>> import torch
        >>> group_outputs(torch.arange(4.0).reshape(1, 4, 1), 2).flatten().tolist()
        [1.0, 5.0]
    """
    if outputs.dim() < 2:
        raise ValueError(f"outputs must be [batch, n_outputs, ...], got shape {tuple(outputs.shape)}.")
    # While tracing, sizes are tensors: the checks and the P == C shortcut are eager-only, and
    # unflatten keeps the batch and time axes symbolic so an export takes any batch and length.
    if not torch.jit.is_tracing():
        check_grouping(outputs.shape[1], n_src)
        if outputs.shape[1] == n_src:
            return outputs
    return outputs.unflatten(1, (n_src, -1)).sum(dim=2)


def _pointwise(n_copies, in_chan, out_chan):
    """``n_copies`` independent 1x1 layers ``in_chan -> out_chan`` as one grouped convolution."""
    return nn.Conv1d(n_copies * in_chan, n_copies * out_chan, 1, groups=n_copies)


class MaskerHead(RecordsConfig, nn.Module, metaclass=abc.ABCMeta):
    """Base class of the mask heads: output layers, mask activation f, grouping P -> C.

    The layers either belong to each output (``shared=False``: P independent copies, run as
    one grouped convolution) or are one set applied to every output (``shared=True``).
    Subclasses build ``self.layers`` with :meth:`_build_layers`; everything else is common.
    The arguments a head is built with are recorded, as a trunk's (:meth:`get_config`).

    Args:
        in_chan (int): feature size H of each trunk output.
        n_src (int): number of sources C (masks returned by :meth:`forward`).
        out_chan (int, optional): mask size N (the encoder's number of filters).
            Defaults to ``in_chan``.
        n_outputs (int, optional): number of outputs P before grouping; a multiple of
            ``n_src``. Defaults to ``n_src`` (no overseparation).
        mask_act (str, optional): mask activation f, see
            :data:`~asteroid_deepmask.masknn.mask_activations.MASK_ACTIVATIONS`.
        shared (bool, optional): one set of layers for all outputs instead of one per output.
    """

    def __init__(self, in_chan, n_src, out_chan=None, n_outputs=None, mask_act="relu", shared=False):
        super().__init__()
        n_outputs = n_src if n_outputs is None else n_outputs
        out_chan = in_chan if out_chan is None else out_chan
        check_positive_int("in_chan", in_chan)
        check_positive_int("out_chan", out_chan)
        check_grouping(n_outputs, n_src)
        self.in_chan, self.out_chan = in_chan, out_chan
        self.n_src, self.n_outputs = n_src, n_outputs
        self.shared = bool(shared)
        self.activation = MaskActivation(mask_act)
        self.mask_act = self.activation.mask_act
        self.layers = self._build_layers(1 if self.shared else n_outputs, out_chan * self.activation.expansion)

    @abc.abstractmethod
    def _build_layers(self, n_copies, final_chan):
        """Layers mapping ``[b, n_copies * in_chan, frames]`` to ``[b, n_copies * final_chan, frames]``."""

    def forward_outputs(self, feats):
        """All P masks before grouping.

        Args:
            feats (torch.Tensor): ``[batch, n_outputs, in_chan, frames]``.

        Returns:
            torch.Tensor: ``[batch, n_outputs, out_chan, frames]``.
        """
        if feats.dim() != 4 or feats.shape[1] != self.n_outputs or feats.shape[2] != self.in_chan:
            raise ValueError(
                f"{type(self).__name__} expects features [batch, n_outputs={self.n_outputs}, "
                f"in_chan={self.in_chan}, frames], got shape {tuple(feats.shape)}."
            )
        return self._masks(self.layers, feats.flatten(1, 2))

    def _masks(self, layers, stacked):
        """``layers`` on ``[batch, n_outputs * chan, frames]`` (the outputs stacked on channels), then f."""
        batch, _, frames = stacked.shape
        # Shared layers see each output as a batch item; per-output layers see them as groups.
        if self.shared:
            stacked = stacked.reshape(batch * self.n_outputs, -1, frames)
        return self.activation(layers(stacked).reshape(batch, self.n_outputs, -1, frames))

    def foldable_layer(self):
        """The first layer, if it is a 1x1 convolution that a trunk's last layer can be folded into.

        Returns:
            ``(layer, rest)``: the 1x1 ``nn.Conv1d`` and the layers after it, or ``None``.
        """
        first, rest = (self.layers[0], self.layers[1:]) if isinstance(self.layers, nn.Sequential) else (self.layers, None)
        n_copies = 1 if self.shared else self.n_outputs
        if not (isinstance(first, nn.Conv1d) and first.kernel_size == (1,) and first.stride == (1,)
                and first.padding == (0,) and first.groups == n_copies and first.in_channels == n_copies * self.in_chan):
            return None
        return first, (rest if rest is not None and len(rest) else nn.Identity())

    def forward_outputs_folded(self, projection, feats, bias_scale=1):
        """All P masks of ``projection(feats)``, the trunk's last 1x1 layer folded into this head's first.

        Both layers are linear, so each output's pair is one ``K -> out`` product: the weights
        ``W_head W_trunk`` and bias ``W_head b_trunk * bias_scale + b_head`` are formed per call
        (gradients reach both layers) and the ``[batch, n_outputs * in_chan, frames]`` features
        between the two layers are never made. Equal to
        ``forward_outputs(projection(feats) reshaped)`` up to float rounding.

        Args:
            projection (nn.Module): 1x1 convolution ``K -> n_outputs * in_chan`` (a trunk's
                :meth:`~.trunk.Trunk.output_projection`).
            feats (torch.Tensor): its input ``[batch, K, frames]``.
            bias_scale (int or torch.Tensor): times its bias is added per frame (int or ``[1, 1, frames]``).

        Returns:
            torch.Tensor: ``[batch, n_outputs, out_chan, frames]``.
        """
        folding = self.foldable_layer()
        if folding is None:
            stacked = apply_projection(projection, feats, bias_scale)
            return self.forward_outputs(stacked.unflatten(1, (self.n_outputs, self.in_chan)))
        first, rest = folding
        n_copies, width = first.groups, first.out_channels // first.groups
        head_w = first.weight.reshape(n_copies, width, self.in_chan).expand(self.n_outputs, -1, -1)
        trunk_w = projection.weight.reshape(self.n_outputs, self.in_chan, -1)
        weight = torch.bmm(head_w, trunk_w).flatten(0, 1)  # [n_outputs * width, K]
        bias = torch.bmm(head_w, projection.bias.reshape(self.n_outputs, self.in_chan, 1)).flatten(0, 1) * bias_scale
        if first.bias is not None:
            bias = bias + first.bias.reshape(n_copies, width, 1).expand(self.n_outputs, -1, -1).flatten(0, 1)
        stacked = torch.baddbmm(bias, weight.expand(feats.shape[0], -1, -1), feats)
        return self._masks(rest, stacked)

    def forward(self, feats):
        """C source masks ``[batch, n_src, out_chan, frames]`` from ``[batch, n_outputs, in_chan, frames]``."""
        return group_outputs(self.forward_outputs(feats), self.n_src)


class LinearMaskerHead(MaskerHead):
    """The shallow head of the paper: a 1x1 FC layer on each output, then f (Eq. 1), then grouping (Eq. 2).

    With ``n_outputs == n_src`` it is the usual single-layer mask estimator; with P > C and a
    nonlinear f it is the overseparation-grouping head. In DPRNN the P per-output projections
    are the trunk's last 1x1 convolution, and this layer, which maps the ``in_chan`` features
    to ``out_chan`` mask bins, is shared by all outputs (``shared=True``, the default): that is
    the layout whose parameter counts match the paper's Table 1. ``shared=False`` gives every
    output its own layer (4,160 more parameters for each extra output at H = N = 64).

    Args:
        in_chan (int): feature size H of each trunk output.
        n_src (int): number of sources C.
        out_chan (int, optional): mask size N. Defaults to ``in_chan``.
        n_outputs (int, optional): outputs P before grouping, a multiple of C. Defaults to C.
        mask_act (str, optional): mask activation f. Defaults to ``"relu"``.
        shared (bool, optional): one layer for all outputs. Defaults to True.

    Shapes:
        ``[batch, n_outputs, in_chan, frames] -> [batch, n_src, out_chan, frames]``.

    Example:
        >>> import torch
        >>> head = LinearMaskerHead(in_chan=64, n_src=2, n_outputs=8)
        >>> head(torch.randn(3, 8, 64, 50)).shape
        torch.Size([3, 2, 64, 50])

    References:
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022.
    """

    def __init__(self, in_chan, n_src, out_chan=None, n_outputs=None, mask_act="relu", shared=True):
        super().__init__(in_chan, n_src, out_chan=out_chan, n_outputs=n_outputs, mask_act=mask_act, shared=shared)

    def _build_layers(self, n_copies, final_chan):
        return _pointwise(n_copies, self.in_chan, final_chan)


class MLPMaskerHead(MaskerHead):
    """Deep mask head: a 3-layer MLP per output (Linear, tanh, Linear, tanh, Linear, f).

    The paper gives each source its own MLP (``n_outputs == n_src``, ``shared=False``), with
    hidden width 16 ("MLP (S)") or 64 ("MLP (L)").

    Args:
        in_chan (int): feature size H of each trunk output.
        n_src (int): number of sources C.
        out_chan (int, optional): mask size N. Defaults to ``in_chan``.
        n_outputs (int, optional): outputs P before grouping, a multiple of C. Defaults to C.
        mask_act (str, optional): mask activation f of the last layer. Defaults to ``"relu"``.
        hidden (int, optional): width of the two hidden layers. Defaults to 64.
        shared (bool, optional): one MLP for all outputs. Defaults to False.

    Shapes:
        ``[batch, n_outputs, in_chan, frames] -> [batch, n_src, out_chan, frames]``.

    Example:
        >>> import torch
        >>> head = MLPMaskerHead(in_chan=64, n_src=2, hidden=16)
        >>> head(torch.randn(3, 2, 64, 50)).shape
        torch.Size([3, 2, 64, 50])

    References:
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022.
    """

    def __init__(self, in_chan, n_src, out_chan=None, n_outputs=None, mask_act="relu", hidden=64, shared=False):
        self.hidden = check_positive_int("hidden", hidden)
        super().__init__(in_chan, n_src, out_chan=out_chan, n_outputs=n_outputs, mask_act=mask_act, shared=shared)

    def _build_layers(self, n_copies, final_chan):
        return nn.Sequential(
            _pointwise(n_copies, self.in_chan, self.hidden),
            nn.Tanh(),
            _pointwise(n_copies, self.hidden, self.hidden),
            nn.Tanh(),
            _pointwise(n_copies, self.hidden, final_chan),
        )


#: The mask heads by name; see :func:`register_head`.
HEADS = Registry("head", MaskerHead, ("in_chan", "n_src", "out_chan", "n_outputs"),
                 "register one with asteroid_deepmask.register_head(name, cls)")
HEADS.register("linear", LinearMaskerHead)
HEADS.register("mlp", MLPMaskerHead)


def register_head(name, cls=None):
    """Register a :class:`MaskerHead` subclass under ``name`` (also a class decorator).

    Its ``__init__`` takes ``in_chan``, ``n_src``, ``out_chan`` and ``n_outputs`` (the model
    sets them) and its own arguments, which come from a model's ``head_args``.
    """
    return HEADS.register(name, cls)


def build_head(name, in_chan, n_src, out_chan=None, n_outputs=None, head_args=None):
    """Build the head registered as ``name``; ``head_args`` are its own arguments."""
    kwargs = dict(head_args or {})
    HEADS.check_arguments(name, kwargs)
    return HEADS.get(name)(in_chan=in_chan, n_src=n_src, out_chan=out_chan, n_outputs=n_outputs, **kwargs)


def flat_head_args(mask_head="linear", mask_act="relu", head_hidden=64, shared_head=None):
    """The head name and ``head_args`` that the flat arguments of the presets stand for.

    ``head_hidden`` goes to heads that take ``hidden`` (the MLP); ``shared_head=None`` keeps the
    head's default (the paper's layout: a shared linear layer, one MLP per output).

    Example:
        >>> flat_head_args("mlp", head_hidden=16)
        ('mlp', {'mask_act': 'relu', 'hidden': 16})
    """
    name = str(mask_head).lower()
    if name not in HEADS.names():
        raise ValueError(f"Unknown mask_head={mask_head!r}; choose one of {HEADS.names()}.")
    head_args = {"mask_act": mask_act}
    if HEADS.accepts(name, "hidden"):
        head_args["hidden"] = head_hidden
    else:
        check_positive_int("head_hidden", head_hidden)
    if shared_head is not None:
        head_args["shared"] = shared_head
    return name, head_args


def make_head(mask_head, in_chan, n_src, out_chan=None, n_outputs=None, mask_act="relu", hidden=64, shared=None):
    """Build a head from the flat arguments: ``"linear"`` (shallow, Eq. 1) or ``"mlp"`` (deep, 3 layers).

    Example:
        >>> make_head("mlp", in_chan=64, n_src=2, hidden=16).hidden
        16
    """
    name, head_args = flat_head_args(mask_head, mask_act, hidden, shared)
    return build_head(name, in_chan, n_src, out_chan, n_outputs, head_args)
