"""Segmentation of a sequence into overlapping chunks and its inverse, for dual-path networks."""
import torch
from torch.nn import functional as F


def split_chunks(x, chunk_size, hop_size):
    """Cut ``[batch, chan, frames]`` into overlapping chunks ``[batch, chan, chunk_size, n_chunks]``.

    Both ends are zero-padded by ``chunk_size`` frames (the layout of Asteroid's DPRNN, which the
    paper's complexity numbers assume), so every frame is covered by the same number of chunks.
    """
    batch, chan, _ = x.shape
    chunks = F.unfold(
        x.unsqueeze(-1), kernel_size=(chunk_size, 1), padding=(chunk_size, 0), stride=(hop_size, 1)
    )
    return chunks.reshape(batch, chan, chunk_size, -1)


def overlap_add(chunks, n_frames, hop_size):
    """Inverse layout of :func:`split_chunks`: sum overlapping chunks back to ``[batch, chan, n_frames]``.

    The overlapping chunks are summed, not averaged, as in DPRNN. When the hop divides the
    chunk (the usual 50% overlap), each chunk is ``chunk_size // hop_size`` hop-long segments and
    the sum is that many shifted additions, about twice as fast as ``F.fold`` on CPU.
    """
    batch, chan, chunk_size, n_chunks = chunks.shape
    if chunk_size % hop_size:
        out = F.fold(
            chunks.reshape(batch, chan * chunk_size, n_chunks),
            (n_frames, 1),
            kernel_size=(chunk_size, 1),
            padding=(chunk_size, 0),
            stride=(hop_size, 1),
        )
        return out.reshape(batch, chan, n_frames)
    n_segments = chunk_size // hop_size
    # Segment j of chunk l covers padded frames [(l + j) * hop, (l + j + 1) * hop).
    segments = chunks.reshape(batch, chan, n_segments, hop_size, n_chunks).transpose(-1, -2)
    out = chunks.new_zeros(batch, chan, n_chunks + n_segments - 1, hop_size)
    for j in range(n_segments):
        out[:, :, j : j + n_chunks] += segments[:, :, j]
    return out.reshape(batch, chan, -1)[..., chunk_size : chunk_size + n_frames]


def chunk_coverage(x, chunk_size, hop_size):
    """Number of chunks of :func:`split_chunks` that cover each frame of ``x`` ``[batch, chan, frames]``.

    When the hop divides the chunk it is ``chunk_size // hop_size`` for every frame (a Python
    int, from the layer sizes only); otherwise a ``[1, 1, frames]`` tensor, the overlap-add of
    ones, computed with tensor ops so that a traced model takes any length.
    """
    if chunk_size % hop_size == 0:
        return chunk_size // hop_size
    ones = torch.ones_like(x[:1, :1])
    return overlap_add(split_chunks(ones, chunk_size, hop_size), x.shape[-1], hop_size)
