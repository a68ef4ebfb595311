import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


#: Small DPRNNDeepMask arguments that keep a forward pass in milliseconds.
TINY = dict(n_filters=16, kernel_size=16, stride=8, bn_chan=16, hid_size=8, chunk_size=10, n_repeats=1)
