import csv
import glob
import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def tiny_args():
    """Small DPRNNDeepMask arguments that keep a forward pass in milliseconds."""
    return dict(n_filters=16, kernel_size=16, stride=8, bn_chan=16, hid_size=8, chunk_size=10, n_repeats=1)


@pytest.fixture
def tiny_dprnn(tiny_args):
    """``tiny_dprnn(**kwargs)``: a two-source DPRNNDeepMask with ``tiny_args``, ``kwargs`` on top."""
    from asteroid_deepmask import DPRNNDeepMask

    return lambda **kwargs: DPRNNDeepMask(**{"n_src": 2, **tiny_args, **kwargs})


@pytest.fixture
def logged_epochs():
    """``logged_epochs(exp_dir)``: epochs with a validation loss in each run's CSV log, run by run."""
    return _logged_epochs


def _logged_epochs(exp_dir):
    paths = glob.glob(os.path.join(exp_dir, "logs", "version_*", "metrics.csv"))
    paths.sort(key=lambda p: int(os.path.basename(os.path.dirname(p)).split("_")[1]))
    return [sorted({int(r["epoch"]) for r in csv.DictReader(open(p)) if r.get("val_loss")}) for p in paths]
