"""Sliced-attention masker after Sams-Net: attention inside time slices of a 2-D feature map."""
import torch
from asteroid.masknn.norms import ChanLN
from torch import nn
from torch.nn import functional as F

from ..utils.checks import check_positive_int
from .trunk import Trunk, register_trunk


def slice_layout(n_frames, n_slices=None, slice_len=None):
    """Slice length and count for ``n_frames`` frames: ``(slice_len, n_slices)``.

    Exactly one of ``n_slices`` (the paper's setting: the length follows the input) and
    ``slice_len`` (fixed length: memory grows linearly with the input) is given. The frames
    are zero-padded at the end up to ``n_slices * slice_len``; padded frames are masked out as
    keys, so they change no real frame's output, and their own outputs are dropped.
    """
    if (n_slices is None) == (slice_len is None):
        raise ValueError(
            f"Give exactly one of n_slices (count) and slice_len (frames); got n_slices={n_slices}, "
            f"slice_len={slice_len}."
        )
    # Ceil divisions in non-negative integers, not math.ceil: while tracing, n_frames is a tensor
    # and the layout must stay a function of it for an export to take any length (and ONNX's
    # integer division truncates, so no negative operands); the checks are eager-only.
    tracing = torch.jit.is_tracing()
    if n_slices is not None:
        if not tracing and n_frames < n_slices:
            raise ValueError(
                f"A sequence of {n_frames} frames cannot be cut into n_slices={n_slices} slices; "
                f"give at least {n_slices} frames or fewer slices."
            )
        slice_len = (n_frames + n_slices - 1) // n_slices
    elif not tracing and n_frames < slice_len:
        raise ValueError(
            f"A sequence of {n_frames} frames is shorter than one slice (slice_len={slice_len}); "
            "give a longer input or a shorter slice_len."
        )
    return slice_len, (n_frames + slice_len - 1) // slice_len


class SlicedDotProductAttention(nn.Module):
    """Multi-head scaled dot-product attention inside time slices of ``[batch, chan, rows, frames]`` maps.

    Tokens are frames; a head's token is its ``chan / n_heads`` channels over every row
    (frequency or filter), so each slice keeps full frequency information. Attention weights
    are ``softmax(Q K^T / sqrt(d))`` with d the token size. Parameter-free: Q, K and V come in.

    Args:
        n_heads (int): number of heads; divides ``chan``.
        n_slices (int, optional): number of slices (length follows the input).
        slice_len (int, optional): slice length in frames (count follows the input).
    """

    def __init__(self, n_heads, n_slices=None, slice_len=None):
        super().__init__()
        self.n_heads, self.n_slices, self.slice_len = n_heads, n_slices, slice_len
        slice_layout(max(n_slices or 1, slice_len or 1), n_slices, slice_len)  # validates the setting

    def layout(self, n_frames):
        return slice_layout(n_frames, self.n_slices, self.slice_len)

    def forward(self, q, k, v):
        batch, chan, rows, n_frames = q.shape
        length, count = self.layout(n_frames)
        pad = length * count - n_frames
        heads = self.n_heads

        def tokens(x):  # [b, c, r, t] -> [b, heads, slices, length, c / heads * r]
            x = F.pad(x, (0, pad)).reshape(batch, heads, chan // heads, rows, count, length)
            return x.permute(0, 1, 4, 5, 2, 3).reshape(batch, heads, count, length, -1)

        keep = torch.arange(count * length, device=q.device) < n_frames
        out = F.scaled_dot_product_attention(
            tokens(q), tokens(k), tokens(v), attn_mask=keep.reshape(count, 1, length)
        )
        out = out.reshape(batch, heads, count, length, chan // heads, rows).permute(0, 1, 4, 5, 2, 3)
        return out.reshape(batch, chan, rows, count * length)[..., :n_frames]


class SlicedAttentionBlock(nn.Module):
    """One Sams-Net module: sliced multi-head attention, then a depthwise-separable convolution.

    Attention sublayer: Q, K, V from 1x1 convolutions, sliced attention, heads merged by a 3x3
    convolution. Convolution sublayer: 3x3 depthwise, 1x1 pointwise, ReLU (the paper names no
    activation; without one the sublayer would be linear). Each sublayer has a residual
    connection and a layer norm over channels.

    Shapes:
        ``[batch, chan, rows, frames] -> [batch, chan, rows, frames]``.
    """

    def __init__(self, chan, n_heads=2, n_slices=None, slice_len=None):
        super().__init__()
        self.qkv = nn.Conv2d(chan, 3 * chan, 1)
        self.attention = SlicedDotProductAttention(n_heads, n_slices, slice_len)
        self.merge = nn.Conv2d(chan, chan, 3, padding=1)
        self.attention_norm = ChanLN(chan)
        self.depthwise = nn.Conv2d(chan, chan, 3, padding=1, groups=chan)
        self.pointwise = nn.Conv2d(chan, chan, 1)
        self.conv_norm = ChanLN(chan)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=1)
        x = self.attention_norm(x + self.merge(self.attention(q, k, v)))
        return self.conv_norm(x + torch.relu(self.pointwise(self.depthwise(x))))


@register_trunk("sliced_attention")
class SlicedAttentionTrunk(Trunk):
    """Sams-Net body on the encoder output seen as a 2-D map, emitting one map per output.

    Registered as ``"sliced_attention"``.

    ``[batch, n_filters, frames]`` is a one-channel image; a 3x3 convolution embeds it into
    ``embed_chan`` channels, ``n_blocks`` :class:`SlicedAttentionBlock` follow, and a 1x1
    convolution gives P maps of ``n_filters`` rows, one per output.

    Args:
        in_chan (int): rows of the map (the encoder's filters).
        n_outputs (int): maps P to emit.
        embed_chan (int, optional): channels d_k. Defaults to 64 (paper).
        n_blocks (int, optional): attention modules M. Defaults to 3 (paper).
        n_heads (int, optional): heads; divides ``embed_chan``. Defaults to 2 (paper).
        n_slices (int, optional): slices S. Defaults to 12 (paper) unless ``slice_len`` is given.
        slice_len (int, optional): slice length in frames, instead of ``n_slices``.

    Shapes:
        ``[batch, in_chan, frames] -> [batch, n_outputs, in_chan, frames]``.

    Example:
        >>> trunk = SlicedAttentionTrunk(16, n_outputs=2, embed_chan=8, n_blocks=1, slice_len=10)
        >>> trunk(torch.randn(2, 16, 45)).shape
        torch.Size([2, 2, 16, 45])

    References:
        T. Li, J. Chen, H. Hou, M. Li, "Sams-Net: A Sliced Attention-based Neural Network
        for Music Source Separation", arXiv:1909.05746.
    """

    def __init__(self, in_chan, n_outputs, embed_chan=64, n_blocks=3, n_heads=2, n_slices=None, slice_len=None):
        super().__init__()
        for name, value in (("in_chan", in_chan), ("n_outputs", n_outputs), ("embed_chan", embed_chan),
                            ("n_blocks", n_blocks), ("n_heads", n_heads)):
            check_positive_int(name, value)
        if embed_chan % n_heads:
            raise ValueError(f"embed_chan={embed_chan} must be a multiple of n_heads={n_heads}.")
        if n_slices is None and slice_len is None:
            n_slices = 12
        for name, value in (("n_slices", n_slices), ("slice_len", slice_len)):
            if value is not None:
                check_positive_int(name, value)
        self.n_outputs, self.out_chan = n_outputs, in_chan
        self.embed = nn.Conv2d(1, embed_chan, 3, padding=1)
        self.blocks = nn.Sequential(
            *[SlicedAttentionBlock(embed_chan, n_heads, n_slices, slice_len) for _ in range(n_blocks)]
        )
        self.output = nn.Conv2d(embed_chan, n_outputs, 1)

    def forward(self, mix_rep):
        return self.output(self.blocks(self.embed(mix_rep.unsqueeze(1))))
