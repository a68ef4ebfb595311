"""Training losses: the MixIT wrapper for dynamic grouping and unsupervised training."""
from .mixit import MIXIT_LOSSES, MixITWrapper, all_assignments, gram_equivalent, loss_from_stats

__all__ = ["MIXIT_LOSSES", "MixITWrapper", "all_assignments", "gram_equivalent", "loss_from_stats"]
