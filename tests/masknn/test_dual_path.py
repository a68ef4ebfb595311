import pytest
import torch
from torch.nn import functional as F

from asteroid_deepmask.masknn.dual_path import overlap_add, split_chunks


@pytest.mark.parametrize("chunk_size,hop_size,n_frames", [(10, 5, 37), (12, 4, 50), (10, 3, 41), (8, 8, 30), (6, 5, 6)])
def test_overlap_add_inverts_split_chunks(chunk_size, hop_size, n_frames):
    x = torch.randn(2, 3, n_frames)
    chunks = split_chunks(x, chunk_size, hop_size)
    coverage = overlap_add(split_chunks(torch.ones(1, 1, n_frames), chunk_size, hop_size), n_frames, hop_size)
    torch.testing.assert_close(overlap_add(chunks, n_frames, hop_size), x * coverage)
    reference = F.fold(
        chunks.reshape(2, 3 * chunk_size, -1), (n_frames, 1), kernel_size=(chunk_size, 1),
        padding=(chunk_size, 0), stride=(hop_size, 1),
    ).reshape(2, 3, n_frames)
    torch.testing.assert_close(overlap_add(chunks, n_frames, hop_size), reference)
