import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


#: Small DPRNNDeepMask arguments that keep a forward pass in milliseconds.
TINY = dict(n_filters=16, kernel_size=16, stride=8, bn_chan=16, hid_size=8, chunk_size=10, n_repeats=1)


def logged_epochs(exp_dir):
    """Epochs with a validation loss in each run's CSV log of ``exp_dir``, run by run."""
    import csv
    import glob
    import os

    paths = glob.glob(os.path.join(exp_dir, "logs", "version_*", "metrics.csv"))
    paths.sort(key=lambda p: int(os.path.basename(os.path.dirname(p)).split("_")[1]))
    return [sorted({int(r["epoch"]) for r in csv.DictReader(open(p)) if r.get("val_loss")}) for p in paths]
