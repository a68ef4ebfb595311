"""A masker made of a trunk that emits P feature maps and a head that turns them into C masks."""
from torch import nn

from .heads import HEADS, MaskerHead, build_head, check_grouping, group_outputs
from .trunk import TRUNKS, build_trunk


class OverseparationMasker(nn.Module):
    """Trunk + mask head, with the P ungrouped masks reachable for dynamic grouping.

    :meth:`forward` returns the C masks after the head's deterministic contiguous grouping;
    :meth:`forward_outputs` returns all P masks, for a loss that chooses the grouping itself
    (MixIT-style best assignment). :meth:`build` makes one from registered names.

    When the trunk ends in a 1x1 layer (:meth:`~.trunk.Trunk.output_projection`: DPRNN's
    per-output projections, TCN's) and the head starts with one (:meth:`~.heads.MaskerHead.foldable_layer`:
    the linear and MLP heads), the two are folded into one product per output, formed from
    both layers' weights at each call: the same masks and gradients up to float rounding,
    without the ``[batch, n_outputs * features, frames]`` maps between them. At P = 16 this is
    what brings overseparation to the baseline's speed. ``fold_layers = False`` runs the layers
    one after the other.

    Args:
        trunk (Trunk): maps ``[batch, n_filters, frames]`` to
            ``[batch, n_outputs, trunk.out_chan, frames]``.
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
        #: Fold the trunk's last 1x1 layer into the head's first when both allow it (same function,
        #: fewer products); ``False`` runs the two layers one after the other.
        self.fold_layers = True

    @classmethod
    def build(cls, in_chan, n_src, trunk="dprnn", trunk_args=None, head="linear", head_args=None, n_outputs=None,
              out_chan=None):
        """A masker from a registered trunk and head.

        Args:
            in_chan (int): input features N (the encoder's filters).
            n_src (int): number of sources C.
            trunk (str): registered trunk name (``"dprnn"``, ``"simo_siso"``, ``"tcn"``,
                ``"sliced_attention"`` or one of yours).
            trunk_args (dict, optional): the trunk's own arguments.
            head (str): registered head name (``"linear"``, ``"mlp"`` or one of yours).
            head_args (dict, optional): the head's own arguments (``mask_act``, ``hidden``...).
            n_outputs (int, optional): outputs P before grouping, a multiple of C. Defaults to C.
            out_chan (int, optional): mask size. Defaults to ``in_chan``.

        Example:
            >>> import torch
            >>> masker = OverseparationMasker.build(16, n_src=2, trunk="tcn", head="mlp",
            ...     trunk_args=dict(n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8))
            >>> masker(torch.randn(1, 16, 30)).shape
            torch.Size([1, 2, 16, 30])
        """
        n_outputs = n_src if n_outputs is None else n_outputs
        check_grouping(n_outputs, n_src)
        body = build_trunk(trunk, in_chan, n_src, n_outputs, trunk_args)
        return cls(body, build_head(head, body.out_chan, n_src, out_chan or in_chan, n_outputs, head_args))

    def forward_outputs(self, mix_rep):
        """All P masks ``[batch, n_outputs, n_filters, frames]`` before grouping."""
        projection = self.trunk.output_projection() if self.fold_layers else None
        if projection is None:
            return self.head.forward_outputs(self.trunk(mix_rep))
        # The head folds the projection in, or applies it first when its first layer does not allow it.
        return self.head.forward_outputs_folded(projection, *self.trunk.forward_unprojected(mix_rep))

    def forward(self, mix_rep):
        """C masks ``[batch, n_src, n_filters, frames]`` from ``[batch, n_filters, frames]``."""
        return group_outputs(self.forward_outputs(mix_rep), self.n_src)

    def get_config(self):
        """The arguments of :meth:`build` that rebuild this masker (trunk and head by registered name)."""
        trunk, head = self.trunk.get_config(), self.head.get_config()
        return dict(
            in_chan=trunk["in_chan"],
            n_src=self.n_src,
            n_outputs=self.n_outputs,
            out_chan=self.head.out_chan,
            trunk=TRUNKS.name_of(self.trunk),
            trunk_args={k: v for k, v in trunk.items() if k not in TRUNKS.model_args},
            head=HEADS.name_of(self.head),
            head_args={k: v for k, v in head.items() if k not in HEADS.model_args},
        )

    @classmethod
    def from_config(cls, config):
        """Rebuild a masker from :meth:`get_config`'s output."""
        return cls.build(**config)
