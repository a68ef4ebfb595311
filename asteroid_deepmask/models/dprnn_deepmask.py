"""DPRNN-TasNet with a choice of mask head: the paper's baseline, overseparation or a deep MLP."""
from .preset import DeepMaskPreset
from .registry import register_model


@register_model
class DPRNNDeepMask(DeepMaskPreset):
    """DPRNN-TasNet whose mask estimator is a shallow, overseparation-grouping or deep MLP head.

    Encoder -> :class:`~asteroid_deepmask.masknn.DPRNNTrunk` (P feature maps, no output gate)
    -> mask head (P masks, activation f, contiguous sum into C masks) -> decoder.
    ``mask_head="linear", n_outputs=n_src`` is the paper's baseline; ``n_outputs=16`` its
    overseparation-grouping model; ``mask_head="mlp", head_hidden=16 / 64`` its MLP (S) / (L).
    Defaults are the paper's configuration (N = 64, 2 ms window at 8 kHz, 6 blocks, 128 units).

    Args:
        n_src (int): number of sources C.
        n_outputs (int, optional): outputs P before grouping, a multiple of ``n_src``.
            Defaults to ``n_src``.
        mask_head (str, optional): ``"linear"`` (one 1x1 FC layer per output) or ``"mlp"``
            (3-layer MLP per output). Defaults to ``"linear"``.
        head_hidden (int, optional): hidden width of the MLP head. Defaults to 64.
        shared_head (bool, optional): one set of head layers for all outputs (True) or one
            per output (False). Defaults to None: the paper's layout, a shared 1x1 layer for
            ``"linear"`` and one MLP per output for ``"mlp"``.
        mask_act (str, optional): mask activation f: ``relu``, ``sigmoid``, ``none``,
            ``prelu``, ``glu`` or ``softmax`` (over sources). Defaults to ``"relu"``.
        bn_chan (int, optional): bottleneck size of the trunk. Defaults to 64.
        hid_size (int, optional): LSTM units per direction. Defaults to 128.
        chunk_size (int, optional): DPRNN chunk length in frames. Defaults to 100.
        hop_size (int, optional): DPRNN hop in frames. Defaults to ``chunk_size // 2``.
        n_repeats (int, optional): DPRNN blocks. Defaults to 6.
        norm_type (str, optional): ``"gLN"`` or ``"cLN"``. Defaults to None: ``"gLN"`` (the
            paper's), ``"cLN"`` when causal.
        bidirectional (bool, optional): bidirectional inter-chunk RNN. Defaults to None: True
            unless causal.
        rnn_type (str, optional): ``"LSTM"``, ``"GRU"`` or ``"RNN"``. Defaults to ``"LSTM"``.
        num_layers (int, optional): layers per RNN. Defaults to 1.
        dropout (float, optional): RNN dropout. Defaults to 0.
        causal (bool, optional): a model that sees no future sample beyond the encoder's window
            and separates live audio (:meth:`streamer`): unidirectional RNNs (the intra-chunk one
            too), per-frame norms. Defaults to False (the paper's model).
        fb_name, kernel_size, n_filters, stride, encoder_activation, sample_rate: the filterbank
            as in :class:`~asteroid_deepmask.DeepMaskTasNet` (defaults: free, 16, 64, 8, None, 8000).
        **fb_kwargs: the filterbank's other arguments.
        mixture_consistency (str, optional): project the outputs to sum to the input, as in
            :class:`~asteroid_deepmask.DeepMaskTasNet`. Defaults to None.

    Shapes:
        ``[batch, time]`` or ``[batch, 1, time] -> [batch, n_src, time]``;
        :meth:`forward_outputs` gives ``[batch, n_outputs, time]``.

    Example:
        >>> import torch
        >>> model = DPRNNDeepMask(n_src=2, mask_head="mlp", head_hidden=16, hid_size=16, n_repeats=1)
        >>> model(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])

    References:
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022.
        Y. Luo, Z. Chen, T. Yoshioka, "Dual-path RNN", ICASSP 2020.
    """

    def __init__(self, n_src, *, n_outputs=None, mask_head="linear", head_hidden=64, shared_head=None, mask_act="relu",
                 bn_chan=64, hid_size=128, chunk_size=100, hop_size=None, n_repeats=6, norm_type=None,
                 bidirectional=None, rnn_type="LSTM", num_layers=1, dropout=0.0, causal=False,
                 fb_name="free", kernel_size=16, n_filters=64, stride=8, encoder_activation=None, sample_rate=8000,
                 mixture_consistency=None, **fb_kwargs):
        trunk_args = dict(bn_chan=bn_chan, hid_size=hid_size, chunk_size=chunk_size, hop_size=hop_size,
                          n_repeats=n_repeats, norm_type=norm_type, bidirectional=bidirectional,
                          rnn_type=rnn_type, num_layers=num_layers, dropout=dropout, causal=causal)
        super().__init__(n_src, trunk="dprnn", trunk_args=trunk_args, n_outputs=n_outputs, mask_head=mask_head,
                         head_hidden=head_hidden, shared_head=shared_head, mask_act=mask_act, fb_name=fb_name,
                         kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                         encoder_activation=encoder_activation, sample_rate=sample_rate, fb_kwargs=fb_kwargs,
                         mixture_consistency=mixture_consistency)
