"""Conv-TasNet with a choice of mask head."""
from .preset import DeepMaskPreset
from .registry import register_model


@register_model
class ConvTasNetDeepMask(DeepMaskPreset):
    """Conv-TasNet whose mask estimator is a shallow, overseparation-grouping or deep MLP head.

    Encoder -> :class:`~asteroid_deepmask.masknn.TCNTrunk` (Asteroid's TDConvNet blocks, P
    feature maps, no mask layer) -> mask head -> decoder: ``DeepMaskTasNet(trunk="tcn")``.
    Defaults are those of Asteroid's ``ConvTasNet`` (Luo & Mesgarani 2019: N = 512, L = 16,
    B = Sc = 128, H = 512, P = 3, X = 8, R = 3, sigmoid masks), so the default model is the
    usual Conv-TasNet with its mask layer split into a per-output projection and a shared 1x1
    layer; ``n_outputs=8, mask_act="relu"`` or ``mask_head="mlp"`` give it the paper's heads.

    Args:
        n_src (int): number of sources C.
        n_outputs, mask_head, head_hidden, shared_head: the mask head, as in
            :class:`~asteroid_deepmask.DPRNNDeepMask`.
        mask_act (str, optional): mask activation f. Defaults to ``"sigmoid"`` (Asteroid's).
        n_blocks, n_repeats, bn_chan, hid_chan, skip_chan, conv_kernel_size, norm_type, causal:
            the TCN, as in :class:`~asteroid_deepmask.masknn.TCNTrunk` (defaults 8, 3, 128, 512, 128, 3,
            None: gLN, or cLN when causal, False).
        fb_name, kernel_size, n_filters, stride, encoder_activation, sample_rate: the filterbank
            (defaults: free, 16, 512, 8, None, 8000).
        **fb_kwargs: the filterbank's other arguments.
        mixture_consistency (str, optional): project the outputs to sum to the input, as in
            :class:`~asteroid_deepmask.DeepMaskTasNet`. Defaults to None.

    Shapes:
        ``[batch, time] -> [batch, n_src, time]``; :meth:`forward_outputs` gives
        ``[batch, n_outputs, time]``.

    Example:
        >>> import torch
        >>> model = ConvTasNetDeepMask(n_src=2, n_outputs=8, mask_act="relu", n_filters=32, n_blocks=2,
        ...                            n_repeats=1, bn_chan=16, hid_chan=32, skip_chan=16)
        >>> model(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])

    References:
        Y. Luo, N. Mesgarani, "Conv-TasNet: Surpassing ideal time-frequency magnitude masking
        for speech separation", IEEE/ACM TASLP 2019.
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022.
    """

    def __init__(self, n_src, *, n_outputs=None, mask_head="linear", head_hidden=64, shared_head=None,
                 mask_act="sigmoid", n_blocks=8, n_repeats=3, bn_chan=128, hid_chan=512, skip_chan=128, conv_kernel_size=3,
                 norm_type=None, causal=False,
                 fb_name="free", kernel_size=16, n_filters=512, stride=8, encoder_activation=None, sample_rate=8000,
                 mixture_consistency=None, **fb_kwargs):
        trunk_args = dict(n_blocks=n_blocks, n_repeats=n_repeats, bn_chan=bn_chan, hid_chan=hid_chan,
                          skip_chan=skip_chan, conv_kernel_size=conv_kernel_size, norm_type=norm_type,
                          causal=causal)
        super().__init__(n_src, trunk="tcn", trunk_args=trunk_args, n_outputs=n_outputs, mask_head=mask_head,
                         head_hidden=head_hidden, shared_head=shared_head, mask_act=mask_act, fb_name=fb_name,
                         kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                         encoder_activation=encoder_activation, sample_rate=sample_rate, fb_kwargs=fb_kwargs,
                         mixture_consistency=mixture_consistency)
