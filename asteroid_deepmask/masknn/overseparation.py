"""A masker made of a trunk that emits P feature maps and a head that turns them into C masks."""
from torch import nn

from .heads import MASK_HEADS, MaskerHead, make_head

_HEADS_BY_CLASS = {cls.__name__: cls for cls in MASK_HEADS.values()}


def _trunk_classes():
    """Trunk classes that :meth:`OverseparationMasker.from_config` can rebuild, by class name."""
    from .dprnn import DPRNNTrunk
    from .simo_siso import SimoSisoTrunk
    from .sliced_attention import SlicedAttentionTrunk

    return {cls.__name__: cls for cls in (DPRNNTrunk, SimoSisoTrunk, SlicedAttentionTrunk)}


class OverseparationMasker(nn.Module):
    """Trunk + mask head, with the P ungrouped masks reachable for dynamic grouping.

    :meth:`forward` returns the C masks after the head's deterministic contiguous grouping;
    :meth:`forward_outputs` returns all P masks, for a loss that chooses the grouping itself
    (MixIT-style best assignment).

    Args:
        trunk (nn.Module): maps ``[batch, n_filters, frames]`` to
            ``[batch, n_outputs, trunk.out_chan, frames]``; has ``n_outputs`` and ``out_chan``.
        head (MaskerHead): a head with ``head.n_outputs == trunk.n_outputs`` and
            ``head.in_chan == trunk.out_chan``.

    Shapes:
        ``[batch, n_filters, frames] -> [batch, n_src, n_filters, frames]``.

    Example:
        >>> import torch
        >>> from asteroid_deepmask.masknn import DPRNNTrunk, LinearMaskerHead
        >>> masker = OverseparationMasker(
        ...     DPRNNTrunk(64, n_outputs=8, hid_size=16, n_repeats=1),
        ...     LinearMaskerHead(64, n_src=2, n_outputs=8),
        ... )
        >>> x = torch.randn(1, 64, 40)
        >>> masker(x).shape, masker.forward_outputs(x).shape
        (torch.Size([1, 2, 64, 40]), torch.Size([1, 8, 64, 40]))

    References:
        S. Wisdom et al., "Unsupervised Sound Separation Using Mixture Invariant Training",
        NeurIPS 2020. K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for
        Neural Source Separation Systems", Interspeech 2022.
    """

    def __init__(self, trunk, head):
        super().__init__()
        if not isinstance(head, MaskerHead):
            raise ValueError(f"head must be a MaskerHead, got {type(head).__name__}.")
        if trunk.n_outputs != head.n_outputs or trunk.out_chan != head.in_chan:
            raise ValueError(
                f"trunk emits {trunk.n_outputs} maps of {trunk.out_chan} features but the head "
                f"expects n_outputs={head.n_outputs}, in_chan={head.in_chan}; make them equal."
            )
        self.trunk = trunk
        self.head = head
        self.n_src = head.n_src
        self.n_outputs = head.n_outputs

    def forward_outputs(self, mix_rep):
        """All P masks ``[batch, n_outputs, n_filters, frames]`` before grouping."""
        return self.head.forward_outputs(self.trunk(mix_rep))

    def forward(self, mix_rep):
        """C masks ``[batch, n_src, n_filters, frames]`` from ``[batch, n_filters, frames]``."""
        return self.head(self.trunk(mix_rep))

    def get_config(self):
        """Nested config: ``{"trunk": {...}, "head": {...}}``, each with its class name."""
        return {
            "trunk": {"class": type(self.trunk).__name__, **self.trunk.get_config()},
            "head": {"class": type(self.head).__name__, **self.head.get_config()},
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild a masker from :meth:`get_config`'s output."""
        parts = []
        for part, registry in (("trunk", _trunk_classes()), ("head", _HEADS_BY_CLASS)):
            kwargs = dict(config[part])
            name = kwargs.pop("class")
            if name not in registry:
                raise ValueError(f"Unknown {part} class {name!r}; known: {sorted(registry)}.")
            parts.append(registry[name](**kwargs))
        return cls(*parts)


class ConfiguredMasker(OverseparationMasker):
    """An :class:`OverseparationMasker` built from plain arguments (trunk settings and head
    choice), whose :meth:`get_config` round-trips through ``__init__``.

    Subclasses build their trunk, then call :meth:`_assemble` with it and their arguments.
    """

    #: Arguments that configure the head or the masker's shape, not the trunk.
    HEAD_ARGS = ("in_chan", "n_src", "n_outputs", "mask_head", "head_hidden", "shared_head", "mask_act", "out_chan")

    @classmethod
    def _trunk_args(cls, config):
        """The trunk's keyword arguments among the masker's ``config``."""
        return {k: v for k, v in config.items() if k not in cls.HEAD_ARGS}

    def _assemble(self, trunk, config):
        head = make_head(
            config["mask_head"],
            in_chan=trunk.out_chan,
            n_src=config["n_src"],
            out_chan=config.get("out_chan") or config["in_chan"],
            n_outputs=trunk.n_outputs,
            mask_act=config["mask_act"],
            hidden=config["head_hidden"],
            shared=config["shared_head"],
        )
        OverseparationMasker.__init__(self, trunk, head)
        self._config = dict(config)

    def get_config(self):
        """Arguments that rebuild this masker through ``__init__``."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return cls(**config)
