"""TasNet with a sliced-attention (Sams-Net) masker and any mask head."""
from .preset import DeepMaskPreset
from .registry import register_model


@register_model
class SlicedAttentionTasNet(DeepMaskPreset):
    """Encoder -> :class:`~asteroid_deepmask.masknn.SlicedAttentionTrunk` -> mask head -> decoder.

    The preset of ``DeepMaskTasNet(trunk="sliced_attention")`` with flat arguments.

    Works with the learned filterbank (``fb_name="free"``, the default) and with an STFT
    filterbank (``fb_name="stft"``, e.g. ``n_filters=256, kernel_size=256, stride=64``), whose
    real and imaginary rows form the 2-D map.

    Args:
        n_src (int): number of sources C.
        embed_chan (int, optional): channels d_k. Defaults to 64.
        n_blocks (int, optional): attention modules M. Defaults to 3.
        n_heads (int, optional): heads. Defaults to 2.
        n_slices (int, optional): slices S (default 12 when ``slice_len`` is not given).
        slice_len (int, optional): slice length in frames, instead of ``n_slices``: memory
            then grows linearly with the input length.
        n_outputs, mask_head, head_hidden, shared_head, mask_act: the mask head, as in
            :class:`~asteroid_deepmask.DPRNNDeepMask`.
        fb_name, kernel_size, n_filters, stride, encoder_activation, sample_rate, mixture_consistency:
            the filterbank and the projection, as in :class:`~asteroid_deepmask.DPRNNDeepMask` (same defaults).
        **fb_kwargs: the filterbank's other arguments.

    Shapes:
        ``[batch, time] -> [batch, n_src, time]``: the sliced attention trunk sees the encoded
        mixture ``[batch, n_filters, frames]`` cut into slices of frames.

    Example:
        >>> import torch
        >>> model = SlicedAttentionTasNet(n_src=2, embed_chan=8, n_blocks=1, slice_len=20, n_filters=16)
        >>> model(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])

    References:
        T. Li, J. Chen, H. Hou, M. Li, "Sams-Net: A Sliced Attention-based Neural Network
        for Music Source Separation", arXiv:1909.05746.
    """

    def __init__(self, n_src, *, n_outputs=None, mask_head="linear", head_hidden=64, shared_head=None, mask_act="relu",
                 embed_chan=64, n_blocks=3, n_heads=2, n_slices=None, slice_len=None,
                 fb_name="free", kernel_size=16, n_filters=64, stride=8, encoder_activation=None, sample_rate=8000,
                 mixture_consistency=None, **fb_kwargs):
        trunk_args = dict(embed_chan=embed_chan, n_blocks=n_blocks, n_heads=n_heads, n_slices=n_slices,
                          slice_len=slice_len)
        super().__init__(n_src, trunk="sliced_attention", trunk_args=trunk_args, n_outputs=n_outputs, mask_head=mask_head,
                         head_hidden=head_hidden, shared_head=shared_head, mask_act=mask_act, fb_name=fb_name,
                         kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                         encoder_activation=encoder_activation, sample_rate=sample_rate, fb_kwargs=fb_kwargs,
                         mixture_consistency=mixture_consistency)
