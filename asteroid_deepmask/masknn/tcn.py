"""Conv-TasNet's temporal convolutional network as a trunk: P feature maps out, no mask layer."""
import torch
from asteroid.masknn.convolutional import Conv1DBlock
from torch import nn

from ..utils.checks import check_positive_int
from .causality import check_streamable, resolve_norm
from .dprnn import bottleneck
from .time_major import per_frame
from .trunk import Trunk, register_trunk


@register_trunk("tcn")
class TCNTrunk(Trunk):
    """Conv-TasNet's separator (Asteroid's ``TDConvNet`` blocks) emitting one feature map per output.

    Layer norm and a 1x1 bottleneck, ``n_repeats`` x ``n_blocks`` dilated depthwise-separable
    convolution blocks (Asteroid's ``Conv1DBlock``, dilations 1, 2, ..., 2^(n_blocks - 1)),
    the sum of their skip outputs (or the last residual output when ``skip_chan=0``), PReLU and
    a 1x1 convolution to ``n_outputs * bn_chan`` channels: the P per-output projections. There is
    no mask layer and no mask activation; the head that follows makes the masks, so Asteroid's
    ``ConvTasNet`` corresponds to P = C with a linear head and f = sigmoid. The layers and their
    names are Asteroid's (its ``TDConvNet`` weights load after renaming ``TCN`` to ``blocks`` and
    ``mask_net`` to ``output``), including the last block's residual convolution, which gets no
    gradient when skip connections are used. Registered as ``"tcn"``.

    Args:
        in_chan (int): input features N (the encoder's filters).
        n_outputs (int): feature maps P to emit.
        n_blocks (int, optional): convolution blocks per repeat (X). Defaults to 8.
        n_repeats (int, optional): repeats (R). Defaults to 3.
        bn_chan (int, optional): bottleneck and output feature size (B). Defaults to 128.
        hid_chan (int, optional): channels inside a block (H). Defaults to 512.
        skip_chan (int, optional): skip-connection channels (Sc); 0 uses the residual path.
            Defaults to 128.
        conv_kernel_size (int, optional): kernel of the depthwise convolutions (P in the paper).
            Defaults to 3.
        norm_type (str, optional): ``"gLN"``, ``"cLN"``...; None: ``"gLN"`` (the paper's), or
            ``"cLN"`` (per frame) when causal.
        causal (bool, optional): convolutions over past frames only and per-frame norms: a trunk
            that streams (:meth:`forward_streaming`, each block keeping its last
            ``(conv_kernel_size - 1) * dilation`` frames). Defaults to False.

    Shapes:
        ``[batch, in_chan, frames] -> [batch, n_outputs, bn_chan, frames]``.

    Example:
        >>> trunk = TCNTrunk(in_chan=32, n_outputs=4, n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=16, skip_chan=8)
        >>> trunk(torch.randn(2, 32, 50)).shape
        torch.Size([2, 4, 8, 50])

    References:
        Y. Luo, N. Mesgarani, "Conv-TasNet: Surpassing ideal time-frequency magnitude masking
        for speech separation", IEEE/ACM TASLP 2019.
    """

    def __init__(self, in_chan, n_outputs, n_blocks=8, n_repeats=3, bn_chan=128, hid_chan=512, skip_chan=128,
                 conv_kernel_size=3, norm_type=None, causal=False):
        super().__init__()
        for name, value in (("in_chan", in_chan), ("n_outputs", n_outputs), ("n_blocks", n_blocks),
                            ("n_repeats", n_repeats), ("bn_chan", bn_chan), ("hid_chan", hid_chan),
                            ("conv_kernel_size", conv_kernel_size)):
            check_positive_int(name, value)
        if isinstance(skip_chan, bool) or not isinstance(skip_chan, int) or skip_chan < 0:
            raise ValueError(f"skip_chan must be an integer >= 0 (0: no skip connections), got skip_chan={skip_chan!r}.")
        self.n_outputs, self.out_chan, self.skip_chan, self.causal = n_outputs, bn_chan, skip_chan, bool(causal)
        self.norm_type = norm_type = resolve_norm(norm_type, self.causal)
        self.bottleneck = bottleneck(in_chan, bn_chan, norm_type)
        self.blocks = nn.ModuleList()
        for _ in range(n_repeats):
            for x in range(n_blocks):
                dilation = 2**x
                padding = (conv_kernel_size - 1) * dilation if causal else (conv_kernel_size - 1) * dilation // 2
                block = Conv1DBlock(bn_chan, hid_chan, skip_chan, conv_kernel_size, padding=padding,
                                    dilation=dilation, norm_type=norm_type, causal=causal)
                if causal and not padding:
                    # a 1-frame kernel has nothing to chomp: Asteroid's Chomp1d(0) would drop every frame
                    block.shared_block[3][1] = nn.Identity()
                self.blocks.append(block)
        self.output = nn.Sequential(nn.PReLU(), nn.Conv1d(skip_chan or bn_chan, n_outputs * bn_chan, 1))

    def get_config(self):
        # the norm that None stood for, so that a saved config says what was built
        return {**super().get_config(), "norm_type": self.norm_type}

    def output_projection(self):
        return self.output[1]

    def forward_unprojected(self, mix_rep):
        return self._features(self.bottleneck(mix_rep), self.blocks), 1

    def streaming_state(self, batch, like):
        """The last ``(kernel - 1) * dilation`` inputs of each block's depthwise convolution (zeros: the
        causal padding), channels last: ``[batch, (kernel - 1) * dilation, hid_chan]`` per block."""
        check_streamable(self, self.causal)
        return tuple(like.new_zeros(batch, conv.padding[0], conv.in_channels)
                     for conv in (block.shared_block[3][0] for block in self.blocks))

    def forward_streaming(self, mix_rep, states, start=None):
        """The blocks run channels last (``[batch, frames, chan]``): their 1x1 layers are products over the channels
        and their norms one fused layer norm, with no transposes between them (:class:`_StreamedBlock`)."""
        check_streamable(self, self.causal)
        steps = [_StreamedBlock(block, past) for block, past in zip(self.blocks, states)]
        feats = _pointwise(self.output[1], self._features(self.bottleneck(mix_rep).transpose(1, 2), steps))
        batch, _, frames = mix_rep.shape
        return (feats.transpose(1, 2).reshape(batch, self.n_outputs, self.out_chan, frames),
                tuple(step.next_past for step in steps))

    def _features(self, residual, blocks):
        """PReLU of the summed skip outputs (or of the last residual), ``blocks`` run one after the other on the
        bottleneck's output ``residual``, in whichever layout the blocks take (the PReLU has one parameter)."""
        skips = torch.zeros((), device=residual.device, dtype=residual.dtype)
        for block in blocks:
            out = block(residual)
            if self.skip_chan:
                out, skip = out
                skips = skips + skip
            residual = residual + out
        return self.output[0](skips if self.skip_chan else residual)

    def forward(self, mix_rep):
        batch, _, frames = mix_rep.shape
        feats, _ = self.forward_unprojected(mix_rep)
        feats = self.output[1](feats)  # [batch, n_outputs * bn_chan, frames]
        return feats.reshape(batch, self.n_outputs, self.out_chan, frames)


def _pointwise(conv, x):
    """The 1x1 convolution ``conv`` on channels-last ``x`` ``[batch, frames, chan]``: a product over the channels.

    ``conv`` is an ``nn.Conv1d`` of kernel 1 and one group (as Conv-TasNet's are), or the
    :class:`~asteroid_deepmask.deployment.quantization.PointwiseLinear` that int8 puts in its place."""
    if isinstance(conv, nn.Conv1d):
        return nn.functional.linear(x, conv.weight[..., 0], conv.bias)
    return conv.channels_last(x)


def _depthwise(conv, x):
    """The depthwise convolution ``conv`` (no padding) on channels-last ``x`` ``[batch, frames, chan]``: a sum of its
    taps, each a slice of ``x`` (constant bounds) times a weight per channel."""
    dilation, taps = conv.dilation[0], conv.kernel_size[0]
    out = conv.bias
    for k in range(taps):
        tap = x[:, k * dilation:-(taps - 1 - k) * dilation or None] * conv.weight[:, 0, k]
        out = tap if out is None else out + tap
    return out


class _StreamedBlock:
    """A causal ``Conv1DBlock`` on new frames, channels last (``[batch, frames, chan]``), its depthwise convolution
    fed the frames it keeps from before (``[batch, kept, hid_chan]``). Its PReLUs have one parameter (Asteroid's
    blocks build them so), which makes them the same in any layout; its norms are per-frame (cLN, a causal trunk's)."""

    def __init__(self, block, past):
        self.block, self.past, self.next_past = block, past, None

    def __call__(self, x):
        in_conv, prelu, norm, (depthwise, _), prelu_out, norm_out = self.block.shared_block
        hidden = torch.cat([self.past, per_frame(norm, prelu(_pointwise(in_conv, x)))], dim=1)
        kept = depthwise.padding[0]  # a Python int: the exported step slices with a constant
        self.next_past = hidden[:, -kept:] if kept else hidden[:, :0]
        shared = per_frame(norm_out, prelu_out(_depthwise(depthwise, hidden)))
        res = _pointwise(self.block.res_conv, shared)
        return (res, _pointwise(self.block.skip_conv, shared)) if self.block.skip_out_chan else res
