"""MaskNet modules for SpeechBrain separation recipes.

SpeechBrain's contract for ``MaskNet``: input ``[batch, n_filters, frames]`` (the encoder's
output), output ``[n_src, batch, n_filters, frames]``, sources first.
"""
from speechbrain.lobes.models.dual_path import Dual_Path_Model
from torch import nn

from ..masknn import OverseparationMasker, make_head


class MaskNet(nn.Module):
    """A trunk and a mask head of ours, by registered name, as a SpeechBrain MaskNet (sources first).

    Args:
        in_chan (int): the encoder's filters N.
        n_src (int): number of sources C.
        trunk (str, optional): registered trunk (``"dprnn"``, ``"simo_siso"``, ``"tcn"``,
            ``"sliced_attention"`` or one you registered). Defaults to ``"dprnn"``.
        trunk_args (dict, optional): the trunk's own arguments.
        head (str, optional): registered head (``"linear"``, ``"mlp"``...). Defaults to ``"linear"``.
        head_args (dict, optional): the head's own arguments (``mask_act``, ``hidden``...).
        n_outputs (int, optional): outputs P before grouping. Defaults to C.
        out_chan (int, optional): mask size. Defaults to ``in_chan``.

    Shapes:
        ``[batch, in_chan, frames] -> [n_src, batch, out_chan, frames]``.

    Example:
        >>> import torch
        >>> masknet = MaskNet(16, n_src=2, trunk="simo_siso", head="mlp", head_args=dict(hidden=8),
        ...                   trunk_args=dict(n_simo=1, n_siso=1, hid_size=4, bn_chan=8))
        >>> masknet(torch.randn(3, 16, 50)).shape
        torch.Size([2, 3, 16, 50])
    """

    def __init__(self, in_chan, n_src, trunk="dprnn", trunk_args=None, head="linear", head_args=None, n_outputs=None,
                 out_chan=None):
        super().__init__()
        self.masker = OverseparationMasker.build(in_chan, n_src, trunk, trunk_args, head, head_args, n_outputs, out_chan)

    def forward(self, mix_rep):
        return self.masker(mix_rep).transpose(0, 1)

    def forward_outputs(self, mix_rep):
        """All P masks before grouping, ``[n_outputs, batch, in_chan, frames]``."""
        return self.masker.forward_outputs(mix_rep).transpose(0, 1)


class DualPathDeepMask(nn.Module):
    """SpeechBrain's ``Dual_Path_Model`` (SepFormer, DPRNN with ``SBRNNBlock``...) with one of
    our mask heads in place of its gated output, final 1x1 convolution and ReLU.

    The dual-path body is SpeechBrain's own module, unedited, configured with ``num_spks =
    n_outputs``; its output layers are removed, and the head maps each of the P overlap-added
    outputs (``out_channels`` features) to ``in_channels`` mask bins, then groups them into C.

    Args:
        intra_model, inter_model (nn.Module): the intra- and inter-chunk blocks
            (``SBTransformerBlock`` for SepFormer, ``SBRNNBlock`` for DPRNN).
        in_channels (int): encoder filters N.
        out_channels (int): feature size inside the dual-path body.
        num_layers, K, norm, linear_layer_after_inter_intra, skip_around_intra, use_global_pos_enc, max_length:
            as SpeechBrain's ``Dual_Path_Model``.
        n_src (int): number of sources C.
        n_outputs (int, optional): outputs P before grouping. Defaults to C.
        mask_head (str, optional): ``"linear"`` or ``"mlp"``. Defaults to ``"mlp"``.
        head_hidden (int, optional): MLP hidden width. Defaults to 64.
        shared_head (bool, optional): see :func:`~asteroid_deepmask.masknn.make_head`.
        mask_act (str, optional): mask activation f. Defaults to ``"relu"`` (SpeechBrain's).

    Shapes:
        ``[batch, in_channels, frames] -> [n_src, batch, in_channels, frames]``.

    Example:
        >>> import torch
        >>> from speechbrain.lobes.models.dual_path import SBRNNBlock
        >>> masknet = DualPathDeepMask(
        ...     SBRNNBlock(8, 4, num_layers=1), SBRNNBlock(8, 4, num_layers=1),
        ...     in_channels=16, out_channels=8, K=10, n_src=2, n_outputs=4)
        >>> masknet(torch.randn(3, 16, 50)).shape
        torch.Size([2, 3, 16, 50])

    References:
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022. C. Subakan et al., "Attention is all you need in
        speech separation", ICASSP 2021.
    """

    def __init__(
        self,
        intra_model,
        inter_model,
        in_channels,
        out_channels,
        num_layers=1,
        K=200,
        n_src=2,
        n_outputs=None,
        mask_head="mlp",
        head_hidden=64,
        shared_head=None,
        mask_act="relu",
        norm="ln",
        linear_layer_after_inter_intra=True,
        skip_around_intra=True,
        use_global_pos_enc=False,
        max_length=20000,
    ):
        super().__init__()
        n_outputs = n_src if n_outputs is None else n_outputs
        # The head maps the body's out_channels features of each output to in_channels mask bins.
        self.head = make_head(mask_head, out_channels, n_src, in_channels, n_outputs, mask_act, head_hidden, shared_head)
        self.dual_path = Dual_Path_Model(
            in_channels,
            out_channels,
            intra_model,
            inter_model,
            num_layers=num_layers,
            norm=norm,
            K=K,
            num_spks=n_outputs,
            skip_around_intra=skip_around_intra,
            linear_layer_after_inter_intra=linear_layer_after_inter_intra,
            use_global_pos_enc=use_global_pos_enc,
            max_length=max_length,
        )
        # The head replaces these: left in place they would be parameters that get no gradient.
        del self.dual_path.output, self.dual_path.output_gate, self.dual_path.end_conv1x1

    def _features(self, mix_rep):
        """SpeechBrain's dual-path forward up to its overlap-add: ``[batch, P, out_channels, frames]``."""
        body = self.dual_path
        x = body.conv1d(body.norm(mix_rep))
        if body.use_global_pos_enc:
            x = body.pos_enc(x.transpose(1, -1)).transpose(1, -1) + x * (x.size(1) ** 0.5)
        x, gap = body._Segmentation(x, body.K)
        for layer in body.dual_mdl:
            x = layer(x)
        x = body.conv2d(body.prelu(x))
        batch, _, chunk, n_chunks = x.shape
        x = body._over_add(x.view(batch * body.num_spks, -1, chunk, n_chunks), gap)
        return x.view(batch, body.num_spks, -1, x.shape[-1])

    def forward(self, mix_rep):
        return self.head(self._features(mix_rep)).transpose(0, 1)

    def forward_outputs(self, mix_rep):
        """All P masks before grouping, ``[n_outputs, batch, in_channels, frames]``."""
        return self.head.forward_outputs(self._features(mix_rep)).transpose(0, 1)
