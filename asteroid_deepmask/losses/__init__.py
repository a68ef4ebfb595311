"""Training losses: the MixIT wrapper for dynamic grouping and unsupervised training, MixIT's
thresholded SNR, and the mixture-consistency projection of outputs."""
from .mixit import MIXIT_LOSSES, MixITWrapper, all_assignments, gram_equivalent, loss_from_stats
from .mixture_consistency import mixture_consistency
from .thresholded_snr import PAIRWISE_LOSSES, SNR_MAX, pairwise_loss, pairwise_thresholded_snr

__all__ = ["MIXIT_LOSSES", "MixITWrapper", "PAIRWISE_LOSSES", "SNR_MAX", "all_assignments", "gram_equivalent",
           "loss_from_stats", "mixture_consistency", "pairwise_loss", "pairwise_thresholded_snr"]
