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

    trunk_name = "simo_siso"
