"""The trunk interface and the trunk registry.

A trunk is the body of a masker: it maps the encoder's output ``[batch, in_chan, frames]`` to
P feature maps ``[batch, n_outputs, out_chan, frames]``, one per output, for any mask head to
turn into masks. Trunks are registered by name so that models, experiment files and recipes
can ask for one (``trunk: dprnn``) without importing it.
"""
import abc

import torch
from torch import nn

from .recorded_config import RecordsConfig
from .registry import Registry


class Trunk(RecordsConfig, nn.Module, metaclass=abc.ABCMeta):
    """Base class of the trunks: ``[batch, in_chan, frames] -> [batch, n_outputs, out_chan, frames]``.

    A subclass's ``__init__`` takes ``in_chan`` (the encoder's filters) and ``n_outputs`` (P),
    and may take ``n_src`` (C) when the trunk needs to know the sources (SIMO-SISO does); its
    other arguments are its own. It sets ``self.n_outputs`` and ``self.out_chan`` (the feature
    size of each map). The arguments it was built with are recorded (:class:`~.recorded_config.RecordsConfig`),
    so :meth:`get_config` round-trips through ``__init__`` with no code in the subclass;
    :func:`~.trunk_checks.check_trunk` tells whether a trunk round-trips, traces and folds.

    Example:
        >>> import torch
        >>> class Repeat(Trunk):
        ...     def __init__(self, in_chan, n_outputs, scale=1.0):
        ...         super().__init__()
        ...         self.n_outputs, self.out_chan, self.scale = n_outputs, in_chan, scale
        ...     def forward(self, mix_rep):
        ...         return self.scale * mix_rep.unsqueeze(1).expand(-1, self.n_outputs, -1, -1)
        >>> trunk = Repeat(in_chan=8, n_outputs=4)
        >>> trunk(torch.randn(2, 8, 30)).shape, trunk.get_config()
        (torch.Size([2, 4, 8, 30]), {'in_chan': 8, 'n_outputs': 4, 'scale': 1.0})
    """

    n_outputs: int
    out_chan: int
    #: True when no output frame depends on a later input frame; such a trunk implements
    #: :meth:`streaming_state` and :meth:`forward_streaming`, and its model streams.
    causal = False

    @abc.abstractmethod
    def forward(self, mix_rep):
        """``[batch, in_chan, frames] -> [batch, n_outputs, out_chan, frames]``."""

    def output_projection(self):
        """The trunk's last layer, if it is a 1x1 convolution over frames; ``None`` otherwise (the default).

        A trunk that returns its layer here (``n_outputs * out_chan`` output channels) also
        implements :meth:`forward_unprojected`, and its ``forward`` is
        ``apply_projection(layer, *forward_unprojected(mix_rep))`` reshaped to
        ``[batch, n_outputs, out_chan, frames]``. A masker then folds the layer into the first
        layer of a linear-first head: one product per output instead of two.
        """
        return None

    def streaming_state(self, batch, like):
        """The state of a new stream of ``batch`` items: a tuple of tensors of the dtype and device of ``like``
        (an int64 counter may be among them), all zeros, as an exported step's client starts them."""
        raise NotImplementedError(f"{type(self).__name__} does not stream: a causal trunk (causal=True) does.")

    def streaming_start(self, like):
        """What the zeros of :meth:`streaming_state` stand for at a stream's start, when not zeros: constants
        (batch 1) that :meth:`forward_streaming` reads where the stream has not written its state yet. None
        (the default): the zeros are the start."""
        return None

    def forward_streaming(self, mix_rep, states, start=None):
        """``(forward(frames), next states)`` for the frames ``mix_rep`` ``[batch, in_chan, frames]`` that follow
        ``states``; the outputs of a stream's calls, concatenated, are :meth:`forward` of all its frames.
        ``start``: :meth:`streaming_start`, given by a caller that computed it once (an exported step holds it
        as constants)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream: a causal trunk (causal=True) does.")

    def forward_unprojected(self, mix_rep):
        """``(feats, bias_scale)``: the ``[batch, K, frames]`` input of :meth:`output_projection`,
        and how many times its bias is added to each frame (an int or ``[1, 1, frames]``)."""
        raise NotImplementedError(f"{type(self).__name__} has no output_projection to leave unapplied.")


def apply_projection(projection, feats, bias_scale=1):
    """A 1x1 convolution ``projection`` on ``[batch, K, frames]`` features, its bias added ``bias_scale`` times.

    One batched matrix product with the bias as its addend, so the ``[batch, out, frames]``
    result is written once. ``bias_scale`` is an int or a ``[1, 1, frames]`` tensor.

    Example:
        >>> conv = nn.Conv1d(3, 4, 1)
        >>> x = torch.randn(2, 3, 10)
        >>> torch.allclose(apply_projection(conv, x), conv(x), atol=1e-6)
        True
    """
    weight = projection.weight.flatten(1)
    return torch.baddbmm(projection.bias[:, None] * bias_scale, weight.expand(feats.shape[0], -1, -1), feats)


#: The trunks by name; see :func:`register_trunk`.
TRUNKS = Registry(
    "trunk", Trunk, ("in_chan", "n_outputs"),
    "register one with asteroid_deepmask.register_trunk(name, cls) and import its module before building the model",
    model_args=("in_chan", "n_outputs", "n_src"),
)


def register_trunk(name, cls=None):
    """Register a :class:`Trunk` subclass under ``name`` (also a class decorator).

    The class is checked now, not at its first forward pass: it must subclass :class:`Trunk`,
    implement ``forward`` and take ``in_chan`` and ``n_outputs``.

    Example:
        >>> import torch
        >>> @register_trunk("example_repeat")
        ... class Repeat(Trunk):
        ...     def __init__(self, in_chan, n_outputs):
        ...         super().__init__()
        ...         self.n_outputs, self.out_chan = n_outputs, in_chan
        ...     def forward(self, mix_rep):
        ...         return mix_rep.unsqueeze(1).expand(-1, self.n_outputs, -1, -1)
        >>> from asteroid_deepmask import DeepMaskTasNet
        >>> model = DeepMaskTasNet(n_src=2, trunk="example_repeat", n_filters=16, n_outputs=4)
        >>> model(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])
    """
    return TRUNKS.register(name, cls)


def build_trunk(name, in_chan, n_src, n_outputs, trunk_args=None):
    """Build the trunk registered as ``name`` (or the Trunk subclass ``name``) for ``in_chan`` input
    features and P outputs; ``trunk_args`` are its own arguments.

    ``n_src`` is passed only to trunks whose ``__init__`` takes it.
    """
    kwargs = dict(trunk_args or {})
    TRUNKS.check_arguments(name, kwargs)
    if TRUNKS.accepts(name, "n_src"):
        kwargs["n_src"] = n_src
    trunk = TRUNKS.get(name)(in_chan=in_chan, n_outputs=n_outputs, **kwargs)
    if getattr(trunk, "n_outputs", None) != n_outputs or not isinstance(getattr(trunk, "out_chan", None), int):
        raise TypeError(f"{type(trunk).__name__} must set self.n_outputs (= {n_outputs}) and self.out_chan (an int).")
    return trunk
