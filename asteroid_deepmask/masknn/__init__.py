"""Mask estimation networks: trunks, mask heads and the maskers that join them."""
from .dprnn import DPRNNMasker, DPRNNTrunk
from .heads import (
    MASK_HEADS,
    LinearMaskerHead,
    MaskerHead,
    MLPMaskerHead,
    check_grouping,
    group_outputs,
    make_head,
)
from .mask_activations import MASK_ACTIVATIONS, MaskActivation
from .overseparation import ConfiguredMasker, OverseparationMasker
from .simo_siso import SimoSisoDPRNN, SimoSisoTrunk
from .sliced_attention import SlicedAttentionMasker, SlicedAttentionTrunk, SlicedDotProductAttention

__all__ = [
    "DPRNNMasker",
    "DPRNNTrunk",
    "LinearMaskerHead",
    "MASK_ACTIVATIONS",
    "MASK_HEADS",
    "MLPMaskerHead",
    "MaskActivation",
    "MaskerHead",
    "OverseparationMasker",
    "ConfiguredMasker",
    "SimoSisoDPRNN",
    "SimoSisoTrunk",
    "SlicedAttentionMasker",
    "SlicedAttentionTrunk",
    "SlicedDotProductAttention",
    "check_grouping",
    "group_outputs",
    "make_head",
]
