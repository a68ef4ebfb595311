import warnings

import torch
from asteroid.losses import PITLossWrapper, pairwise_neg_sisdr

from asteroid_deepmask.utils.library_noise import quiet_library_noise


def test_asteroid_pit_s_notice_about_its_own_code_stays_out_of_a_training_log():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_library_noise()
        # 4 sources: Asteroid's PIT takes its Hungarian path, which builds a tensor from a list of arrays
        PITLossWrapper(pairwise_neg_sisdr, pit_from="pw_mtx")(torch.randn(2, 4, 400), torch.randn(2, 4, 400))
    assert [str(w.message) for w in caught if "numpy.ndarrays" in str(w.message)] == []
