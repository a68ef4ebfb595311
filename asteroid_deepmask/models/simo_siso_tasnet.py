"""TasNet with a SIMO-SISO DPRNN masker and any mask head."""
from ..masknn.simo_siso import SimoSisoDPRNN
from .base import DeepMaskEncoderMaskerDecoder
from .registry import register_model


@register_model
class SimoSisoTasNet(DeepMaskEncoderMaskerDecoder):
    """Encoder -> :class:`~asteroid_deepmask.masknn.SimoSisoDPRNN` -> decoder.

    ``n_simo=2, n_siso=4`` is the 6-block split that Luo et al. found best (about a third of
    the blocks in the SIMO stage); ``n_simo=6, n_siso=0`` is the SIMO-only baseline with the
    same blocks; ``n_simo=0`` separates iteratively (SISO only).

    Args:
        n_src (int): number of sources C.
        n_simo (int, optional): SIMO blocks. Defaults to 2.
        n_siso (int, optional): SISO blocks. Defaults to 4.
        n_outputs, mask_head, head_hidden, shared_head, mask_act: the mask head, as in
            :class:`~asteroid_deepmask.DPRNNDeepMask`.
        bn_chan, hid_size, chunk_size, hop_size, norm_type, bidirectional, rnn_type,
        num_layers, dropout: the DPRNN stages, as in :class:`~asteroid_deepmask.DPRNNDeepMask`.
        fb_name, kernel_size, n_filters, stride, encoder_activation, sample_rate,
        **fb_kwargs: the filterbank (defaults: free, 16, 64, 8, None, 8000).

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

    def __init__(
        self,
        n_src,
        n_simo=2,
        n_siso=4,
        n_outputs=None,
        mask_head="linear",
        head_hidden=64,
        shared_head=None,
        mask_act="relu",
        bn_chan=64,
        hid_size=128,
        chunk_size=100,
        hop_size=None,
        norm_type="gLN",
        bidirectional=True,
        rnn_type="LSTM",
        num_layers=1,
        dropout=0.0,
        fb_name="free",
        kernel_size=16,
        n_filters=64,
        stride=8,
        encoder_activation=None,
        sample_rate=8000,
        **fb_kwargs,
    ):
        n_outputs = n_src if n_outputs is None else n_outputs
        hop_size = chunk_size // 2 if hop_size is None else hop_size
        model_args = {k: v for k, v in locals().items() if k not in ("self", "fb_kwargs", "__class__")}
        self._assemble(SimoSisoDPRNN, model_args, fb_kwargs)

