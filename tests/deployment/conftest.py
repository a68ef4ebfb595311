"""Fixtures of the deployment tests: a tiny causal model and its hub folder."""
import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask


@pytest.fixture(scope="module")
def causal_hub(tmp_path_factory):
    """``(root, model)``: a tiny causal DPRNN with an MLP head, saved as a hub folder in ``root / "hub"``."""
    torch.manual_seed(0)
    model = DPRNNDeepMask(n_src=2, causal=True, mask_head="mlp", head_hidden=8, n_filters=16, bn_chan=8, hid_size=8,
                          chunk_size=100, n_repeats=1).eval()
    root = tmp_path_factory.mktemp("causal")
    model.save_pretrained(str(root / "hub"))
    return root, model
