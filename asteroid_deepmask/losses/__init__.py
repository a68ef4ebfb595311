"""Training losses: the MixIT wrapper for dynamic grouping and unsupervised training, MixIT's
thresholded SNR, the mixture-consistency projection of outputs, the sparsity and envelope-covariance
losses on a MixIT model's outputs, and the grouping of a MixIT teacher's outputs into a student's targets."""
from .covariance import envelope_covariance
from .mixit import MIXIT_LOSSES, MixITWrapper, all_assignments, gram_equivalent, loss_from_stats
from .mixture_consistency import mixture_consistency
from .sparsity import rms_sparsity
from .teacher_student import group_teacher_outputs
from .thresholded_snr import PAIRWISE_LOSSES, SNR_MAX, pairwise_loss, pairwise_thresholded_snr

__all__ = ["MIXIT_LOSSES", "MixITWrapper", "PAIRWISE_LOSSES", "SNR_MAX", "all_assignments", "envelope_covariance",
           "gram_equivalent", "group_teacher_outputs", "loss_from_stats", "mixture_consistency", "pairwise_loss",
           "pairwise_thresholded_snr", "rms_sparsity"]
