"""DPRNN in the structure of the paper: no tanh/sigmoid output gate, P feature maps out."""
import torch
from asteroid.masknn import norms
from asteroid.masknn.recurrent import DPRNNBlock
from torch import nn

from . import causal_dual_path
from .causality import check_streamable, resolve_direction, resolve_norm
from .dual_path import chunk_coverage, overlap_add, split_chunks
from .time_major import run_blocks
from .trunk import Trunk, apply_projection, register_trunk
from ..utils.checks import check_positive_int

RNN_TYPES = ("LSTM", "GRU", "RNN")


class DualPathRNN(nn.Module):
    """Dual-path RNN blocks on overlapping chunks, then PReLU and one projection per output.

    The layers are those of the paper's layout: PReLU and a 1x1 Conv2d from ``chan`` to
    ``n_outputs * chan`` channels (the per-output projections, ``output.1``) on the chunks,
    then overlap-add back to frames. No tanh/sigmoid gate and no output layer: the mask head
    that follows maps each output's features to its mask.

    The projection is linear and overlap-add is a sum, so they commute: :meth:`forward`
    overlap-adds the ``chan`` PReLU features first and projects the frames, adding the bias
    once per chunk that covers a frame (:func:`~.dual_path.chunk_coverage`). That is the same
    function (up to float rounding) at about half the projection MACs (frames, not chunk
    positions) and with ``chan`` instead of ``n_outputs * chan`` channels through
    overlap-add. :meth:`forward_unprojected` stops before the projection, so that a masker can
    fold it into its head's first layer (:class:`~.overseparation.OverseparationMasker`).
    ``asteroid-deepmask complexity`` reports the paper's count and what runs.

    Args:
        chan (int): feature size of input and outputs.
        n_outputs (int): feature maps to emit.
        hid_size (int, optional): hidden units per LSTM direction. Defaults to 128.
        chunk_size (int, optional): chunk length in frames. Defaults to 100.
        hop_size (int, optional): hop between chunks. Defaults to ``chunk_size // 2``.
        n_repeats (int, optional): number of DPRNN blocks. Defaults to 6.
        norm_type (str, optional): ``"gLN"`` or ``"cLN"``; None: ``"gLN"``, or ``"cLN"`` when causal.
            Defaults to None.
        bidirectional (bool, optional): bidirectional inter-chunk RNN; None: True unless causal.
            Defaults to None.
        rnn_type (str, optional): ``"LSTM"``, ``"GRU"`` or ``"RNN"``. Defaults to ``"LSTM"``.
        num_layers (int, optional): layers per RNN. Defaults to 1.
        dropout (float, optional): RNN dropout in [0, 1). Defaults to 0.
        causal (bool, optional): :class:`~.causal_dual_path.CausalDPRNNBlock` blocks (both RNNs
            unidirectional, a per-frame ``norm_type``): no frame sees a later one, and
            :meth:`forward_streaming` runs the network on a stream. ``chunk_size`` must then be a
            multiple of ``hop_size``. Defaults to False.

    Shapes:
        ``[batch, chan, frames] -> [batch, n_outputs, chan, frames]``.

    References:
        Y. Luo, Z. Chen, T. Yoshioka, "Dual-path RNN: efficient long sequence modeling for
        time-domain single-channel speech separation", ICASSP 2020.
    """

    def __init__(
        self,
        chan,
        n_outputs,
        hid_size=128,
        chunk_size=100,
        hop_size=None,
        n_repeats=6,
        norm_type=None,
        bidirectional=None,
        rnn_type="LSTM",
        num_layers=1,
        dropout=0.0,
        causal=False,
    ):
        super().__init__()
        hop_size = chunk_size // 2 if hop_size is None else hop_size
        for name, value in [
            ("chan", chan),
            ("n_outputs", n_outputs),
            ("hid_size", hid_size),
            ("chunk_size", chunk_size),
            ("hop_size", hop_size),
            ("n_repeats", n_repeats),
            ("num_layers", num_layers),
        ]:
            check_positive_int(name, value)
        if hop_size > chunk_size:
            raise ValueError(
                f"hop_size={hop_size} is larger than chunk_size={chunk_size}: frames would be "
                "skipped; use hop_size <= chunk_size (default chunk_size // 2)."
            )
        if str(rnn_type).upper() not in RNN_TYPES:
            raise ValueError(f"Unknown rnn_type={rnn_type!r}; choose one of {list(RNN_TYPES)}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must be in [0, 1).")
        if causal and chunk_size % hop_size:
            raise ValueError(f"A causal DPRNN streams chunk by chunk: chunk_size={chunk_size} must be a multiple of "
                             f"hop_size={hop_size} (e.g. hop_size={chunk_size // 2}).")
        norm_type = resolve_norm(norm_type, bool(causal))
        bidirectional = resolve_direction(bidirectional, bool(causal))
        self.chan, self.n_outputs, self.causal = chan, n_outputs, causal
        self.norm_type, self.bidirectional = norm_type, bidirectional
        self.chunk_size, self.hop_size = chunk_size, hop_size
        rnn_args = dict(rnn_type=rnn_type, num_layers=num_layers, dropout=dropout)
        self.blocks = nn.Sequential(
            *[
                causal_dual_path.CausalDPRNNBlock(chan, hid_size, norm_type, **rnn_args)
                if causal
                else DPRNNBlock(chan, hid_size, norm_type=norm_type, bidirectional=bidirectional, **rnn_args)
                for _ in range(n_repeats)
            ]
        )
        self.output = nn.Sequential(nn.PReLU(), nn.Conv2d(chan, n_outputs * chan, 1))

    def forward_unprojected(self, x):
        """``(feats, coverage)``: the PReLU features overlap-added to ``[batch, chan, frames]``, and
        the chunks covering each frame (:func:`~.dual_path.chunk_coverage`), the bias's multiple."""
        chunks = self.output[0](run_blocks(self.blocks, split_chunks(x, self.chunk_size, self.hop_size)))
        return overlap_add(chunks, x.shape[-1], self.hop_size), chunk_coverage(x, self.chunk_size, self.hop_size)

    def forward(self, x):
        batch, _, n_frames = x.shape
        out = apply_projection(self.output[1], *self.forward_unprojected(x))
        return out.reshape(batch, self.n_outputs, self.chan, n_frames)

    def streaming_state(self, batch, like):
        """The state of a new stream: zeros (a tuple of tensors, see :func:`~.causal_dual_path.initial_state`)."""
        check_streamable(self, self.causal)
        return causal_dual_path.initial_state(self, batch, like)

    def streaming_start(self, like):
        """What the zeros of :meth:`streaming_state` stand for (:func:`~.causal_dual_path.stream_start`)."""
        check_streamable(self, self.causal)
        return causal_dual_path.stream_start(self, like)

    def forward_streaming(self, x, states, start=None):
        """:meth:`forward` on the frames ``x`` ``[batch, chan, frames]`` that follow ``states``; returns
        ``(out, states)``. The frames of a stream, given in any number of calls, give the outputs of
        :meth:`forward` on all of them at once. ``start``: :meth:`streaming_start` (computed when None)."""
        check_streamable(self, self.causal)
        start = self.streaming_start(x) if start is None else start
        feats, states = causal_dual_path.forward_streaming(self, x, states, start)
        batch, _, n_frames = x.shape
        out = apply_projection(self.output[1], feats, self.chunk_size // self.hop_size)
        return out.reshape(batch, self.n_outputs, self.chan, n_frames), states


def bottleneck(in_chan, out_chan, norm_type="gLN"):
    """Layer norm then a 1x1 convolution, ``[batch, in_chan, frames] -> [batch, out_chan, frames]``."""
    return nn.Sequential(norms.get(norm_type)(in_chan), nn.Conv1d(in_chan, out_chan, 1))


@register_trunk("dprnn")
class DPRNNTrunk(Trunk):
    """Dual-path RNN separator body that emits one feature map per output, for any mask head.

    Layer norm and a 1x1 bottleneck, then :class:`DualPathRNN` (``n_repeats`` DPRNN blocks,
    PReLU, one projection per output, overlap-add). Unlike Asteroid's and SpeechBrain's DPRNN
    there is no tanh/sigmoid gate and no output layer. Registered as ``"dprnn"``.

    Args:
        in_chan (int): input features N (the encoder's filters).
        n_outputs (int): feature maps P to emit.
        bn_chan (int, optional): bottleneck and output feature size. Defaults to 64 (paper).
        hid_size, chunk_size, hop_size, n_repeats, rnn_type, num_layers, dropout: as
            :class:`DualPathRNN` (defaults: 128, 100, 50, 6, LSTM, 1, 0: the paper's).
        norm_type (str, optional): layer norm; None: ``"gLN"`` (the paper's), or ``"cLN"`` when causal.
        bidirectional (bool, optional): bidirectional inter-chunk RNN; None: True unless causal.
        causal (bool, optional): a trunk that sees no future frame and streams
            (:meth:`forward_streaming`): unidirectional RNNs, per-frame norms. Defaults to False.

    Shapes:
        ``[batch, in_chan, frames] -> [batch, n_outputs, bn_chan, frames]``.

    Example:
        >>> import torch
        >>> trunk = DPRNNTrunk(in_chan=64, n_outputs=4, hid_size=16, n_repeats=1)
        >>> trunk(torch.randn(2, 64, 120)).shape
        torch.Size([2, 4, 64, 120])

    References:
        Y. Luo, Z. Chen, T. Yoshioka, "Dual-path RNN: efficient long sequence modeling for
        time-domain single-channel speech separation", ICASSP 2020.
        K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source
        Separation Systems", Interspeech 2022.
    """

    def __init__(self, in_chan, n_outputs, bn_chan=64, hid_size=128, chunk_size=100, hop_size=None, n_repeats=6,
                 norm_type=None, bidirectional=None, rnn_type="LSTM", num_layers=1, dropout=0.0, causal=False):
        super().__init__()
        check_positive_int("in_chan", in_chan)
        check_positive_int("bn_chan", bn_chan)
        self.n_outputs, self.out_chan, self.causal = n_outputs, bn_chan, bool(causal)
        self.norm_type = resolve_norm(norm_type, self.causal)
        self.bidirectional = resolve_direction(bidirectional, self.causal)
        self.bottleneck = bottleneck(in_chan, bn_chan, self.norm_type)
        self.dual_path = DualPathRNN(bn_chan, n_outputs, hid_size, chunk_size, hop_size, n_repeats, self.norm_type,
                                     self.bidirectional, rnn_type, num_layers, dropout, self.causal)

    def get_config(self):
        # the norm and direction that None stood for, so that a saved config says what was built
        return {**super().get_config(), "norm_type": self.norm_type, "bidirectional": self.bidirectional}

    def streaming_state(self, batch, like):
        return self.dual_path.streaming_state(batch, like)

    def streaming_start(self, like):
        return self.dual_path.streaming_start(like)

    def forward_streaming(self, mix_rep, states, start=None):
        return self.dual_path.forward_streaming(self.bottleneck(mix_rep), states, start)

    def output_projection(self):
        return self.dual_path.output[1]

    def forward_unprojected(self, mix_rep):
        return self.dual_path.forward_unprojected(self.bottleneck(mix_rep))

    def forward(self, mix_rep):
        return self.dual_path(self.bottleneck(mix_rep))
