"""SIMO-SISO DPRNN: a multi-output stage for C intermediate features, then a shared single-output stage."""
import torch
from torch import nn

from ..utils.checks import check_positive_int
from .dprnn import DualPathRNN, bottleneck
from .heads import check_grouping
from .trunk import Trunk, register_trunk


@register_trunk("simo_siso")
class SimoSisoTrunk(Trunk):
    """SIMO stage (``n_simo`` DPRNN blocks -> C features), then a SISO stage shared by the sources.

    Registered as ``"simo_siso"``.

    The SISO stage (``n_siso`` DPRNN blocks) takes each intermediate feature concatenated with
    the bottlenecked encoder output of the mixture (layer norm + 1x1 conv from ``2 * bn_chan``
    to ``bn_chan``) and emits P / C feature maps for that source; the sources are batched
    through it. Both stages train jointly, with no loss on the intermediate features.

    * ``n_siso = 0``: SIMO only, a DPRNN emitting P maps (the usual design).
    * ``n_simo = 0``: SISO only, iterative: the encoder output is computed once and the SISO
      stage runs once per source, its input being the mixture's features and the previous
      source's features (zeros for the first). This is a sequential recurrence over sources,
      so it is a loop by nature.

    Args:
        in_chan (int): input features N (the encoder's filters).
        n_src (int): number of sources C.
        n_outputs (int, optional): feature maps P, a multiple of ``n_src``. Defaults to C.
        n_simo (int, optional): DPRNN blocks of the SIMO stage. Defaults to 2.
        n_siso (int, optional): DPRNN blocks of the SISO stage. Defaults to 4.
        bn_chan (int, optional): feature size of both stages. Defaults to 64.
        norm_type, hid_size, chunk_size, hop_size, bidirectional, rnn_type, num_layers, dropout:
            both stages' :class:`~.dprnn.DualPathRNN` (defaults: gLN, 128, 100, 50, True, LSTM, 1, 0).

    Shapes:
        ``[batch, in_chan, frames] -> [batch, n_outputs, bn_chan, frames]``, outputs of source
        c at indices ``c * P / C ... (c + 1) * P / C - 1``.

    Example:
        >>> trunk = SimoSisoTrunk(64, n_src=2, n_simo=1, n_siso=1, hid_size=8)
        >>> trunk(torch.randn(3, 64, 150)).shape
        torch.Size([3, 2, 64, 150])

    References:
        Y. Luo, Z. Chen, C. Han, C. Li, T. Zhou, N. Mesgarani, "Rethinking the separation
        layers in speech separation networks", ICASSP 2021.
    """

    def __init__(self, in_chan, n_src, n_outputs=None, n_simo=2, n_siso=4, bn_chan=64, norm_type="gLN", hid_size=128,
                 chunk_size=100, hop_size=None, bidirectional=True, rnn_type="LSTM", num_layers=1, dropout=0.0):
        super().__init__()
        n_outputs = n_src if n_outputs is None else n_outputs
        check_grouping(n_outputs, n_src)
        check_positive_int("bn_chan", bn_chan)
        for name, value in (("n_simo", n_simo), ("n_siso", n_siso)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {name}={value!r}.")
        if n_simo + n_siso == 0:
            raise ValueError("n_simo + n_siso = 0: give the SIMO and/or SISO stage at least one block.")
        self.n_src, self.n_outputs, self.out_chan = n_src, n_outputs, bn_chan
        self.n_simo, self.n_siso = n_simo, n_siso
        self.bottleneck = bottleneck(in_chan, bn_chan, norm_type)
        stage = dict(hid_size=hid_size, chunk_size=chunk_size, hop_size=hop_size, norm_type=norm_type,
                     bidirectional=bidirectional, rnn_type=rnn_type, num_layers=num_layers, dropout=dropout)
        simo_maps = n_src if n_siso else n_outputs
        self.simo = DualPathRNN(bn_chan, simo_maps, n_repeats=n_simo, **stage) if n_simo else None
        if n_siso:
            self.fuse = bottleneck(2 * bn_chan, bn_chan, norm_type)
            self.siso = DualPathRNN(bn_chan, n_outputs // n_src, n_repeats=n_siso, **stage)

    def _siso(self, feats, mix):
        """SISO stage on ``[b, chan, frames]`` features with the mixture's ``[b, chan, frames]``."""
        return self.siso(self.fuse(torch.cat([feats, mix], dim=1)))

    def forward(self, mix_rep):
        mix = self.bottleneck(mix_rep)
        batch, chan, frames = mix.shape
        if not self.n_siso:
            return self.simo(mix)
        if self.n_simo:
            feats = self.simo(mix)  # [batch, n_src, chan, frames]
            per_source = feats.reshape(batch * self.n_src, chan, frames)
            out = self._siso(per_source, mix.repeat_interleave(self.n_src, dim=0))
            return out.reshape(batch, self.n_outputs, chan, frames)
        outputs, previous = [], torch.zeros_like(mix)
        for _ in range(self.n_src):
            out = self._siso(previous, mix)  # [batch, P / C, chan, frames]
            outputs.append(out)
            previous = out.sum(1)
        return torch.cat(outputs, dim=1)
