"""Conv-TasNet's temporal convolutional network as a trunk: P feature maps out, no mask layer."""
import torch
from asteroid.masknn.convolutional import Conv1DBlock
from torch import nn

from ..utils.checks import check_positive_int
from .dprnn import bottleneck
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
        norm_type (str, optional): ``"gLN"``, ``"cLN"``... Defaults to ``"gLN"``.
        causal (bool, optional): causal convolutions and cumulative norm. Defaults to False.

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
                 conv_kernel_size=3, norm_type="gLN", causal=False):
        super().__init__()
        for name, value in (("in_chan", in_chan), ("n_outputs", n_outputs), ("n_blocks", n_blocks),
                            ("n_repeats", n_repeats), ("bn_chan", bn_chan), ("hid_chan", hid_chan),
                            ("conv_kernel_size", conv_kernel_size)):
            check_positive_int(name, value)
        if isinstance(skip_chan, bool) or not isinstance(skip_chan, int) or skip_chan < 0:
            raise ValueError(f"skip_chan must be an integer >= 0 (0: no skip connections), got skip_chan={skip_chan!r}.")
        self.n_outputs, self.out_chan, self.skip_chan = n_outputs, bn_chan, skip_chan
        self.bottleneck = bottleneck(in_chan, bn_chan, norm_type)
        self.blocks = nn.ModuleList()
        for _ in range(n_repeats):
            for x in range(n_blocks):
                dilation = 2**x
                padding = (conv_kernel_size - 1) * dilation if causal else (conv_kernel_size - 1) * dilation // 2
                self.blocks.append(Conv1DBlock(bn_chan, hid_chan, skip_chan, conv_kernel_size, padding=padding,
                                               dilation=dilation, norm_type=norm_type, causal=causal))
        self.output = nn.Sequential(nn.PReLU(), nn.Conv1d(skip_chan or bn_chan, n_outputs * bn_chan, 1))

    def output_projection(self):
        return self.output[1]

    def forward_unprojected(self, mix_rep):
        residual = self.bottleneck(mix_rep)  # [batch, bn_chan, frames]
        skips = torch.zeros((), device=mix_rep.device, dtype=mix_rep.dtype)
        for block in self.blocks:
            out = block(residual)
            if self.skip_chan:
                out, skip = out
                skips = skips + skip  # [batch, skip_chan, frames]
            residual = residual + out
        return self.output[0](skips if self.skip_chan else residual), 1

    def forward(self, mix_rep):
        batch, _, frames = mix_rep.shape
        feats, _ = self.forward_unprojected(mix_rep)
        feats = self.output[1](feats)  # [batch, n_outputs * bn_chan, frames]
        return feats.reshape(batch, self.n_outputs, self.out_chan, frames)
