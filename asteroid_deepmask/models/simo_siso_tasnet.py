"""TasNet with a SIMO-SISO DPRNN masker and any mask head."""
from .preset import DeepMaskPreset
from .registry import register_model


@register_model
class SimoSisoTasNet(DeepMaskPreset):
    """Encoder -> :class:`~asteroid_deepmask.masknn.SimoSisoTrunk` -> mask head -> decoder.

    The preset of ``DeepMaskTasNet(trunk="simo_siso")`` with flat arguments.

    ``n_simo=2, n_siso=4`` is the 6-block split that Luo et al. found best (about a third of
    the blocks in the SIMO stage); ``n_simo=6, n_siso=0`` is the SIMO-only baseline with the
    same blocks; ``n_simo=0`` separates iteratively (SISO only).

    Args:
        n_src (int): number of sources C.
        n_simo (int, optional): SIMO blocks. Defaults to 2.
        n_siso (int, optional): SISO blocks. Defaults to 4.
        n_outputs, mask_head, head_hidden, shared_head, mask_act: the mask head, as in
            :class:`~asteroid_deepmask.DPRNNDeepMask`.
        bn_chan, hid_size, chunk_size, hop_size, norm_type, bidirectional, rnn_type, num_layers, dropout:
            the DPRNN stages, as in :class:`~asteroid_deepmask.DPRNNDeepMask`.
        fb_name, kernel_size, n_filters, stride, encoder_activation, sample_rate: the filterbank
            (defaults: free, 16, 64, 8, None, 8000).
        **fb_kwargs: the filterbank's other arguments.
        mixture_consistency (str, optional): project the outputs to sum to the input, as in
            :class:`~asteroid_deepmask.DeepMaskTasNet`. Defaults to None.

    Shapes:
        ``[batch, time] -> [batch, n_src, time]``.

    Example:
        >>> import torch
        >>> model = SimoSisoTasNet(n_src=2, n_simo=1, n_siso=1, hid_size=8, mask_head="mlp")
        >>> model(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])

    References:
        Y. Luo, Z. Chen, C. Han, C. Li, T. Zhou, N. Mesgarani, "Rethinking the separation
        layers in speech separation networks", ICASSP 2021.
    """

    def __init__(self, n_src, *, n_outputs=None, mask_head="linear", head_hidden=64, shared_head=None, mask_act="relu",
                 n_simo=2, n_siso=4, bn_chan=64, norm_type="gLN", hid_size=128, chunk_size=100, hop_size=None,
                 bidirectional=True, rnn_type="LSTM", num_layers=1, dropout=0.0,
                 fb_name="free", kernel_size=16, n_filters=64, stride=8, encoder_activation=None, sample_rate=8000,
                 mixture_consistency=None, **fb_kwargs):
        trunk_args = dict(n_simo=n_simo, n_siso=n_siso, bn_chan=bn_chan, norm_type=norm_type, hid_size=hid_size,
                          chunk_size=chunk_size, hop_size=hop_size, bidirectional=bidirectional,
                          rnn_type=rnn_type, num_layers=num_layers, dropout=dropout)
        super().__init__(n_src, trunk="simo_siso", trunk_args=trunk_args, n_outputs=n_outputs, mask_head=mask_head,
                         head_hidden=head_hidden, shared_head=shared_head, mask_act=mask_act, fb_name=fb_name,
                         kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                         encoder_activation=encoder_activation, sample_rate=sample_rate, fb_kwargs=fb_kwargs,
                         mixture_consistency=mixture_consistency)
