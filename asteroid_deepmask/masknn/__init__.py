"""Mask estimation networks: trunks, mask heads and the masker that joins them.

:func:`check_trunk` tells whether a trunk of yours rebuilds from its config, traces and folds.
Importing this package registers the built-in trunks (``dprnn``, ``simo_siso``,
``sliced_attention``, ``tcn``) and heads (``linear``, ``mlp``).
"""
from .dprnn import DPRNNTrunk, DualPathRNN
from .heads import (
    HEADS,
    LinearMaskerHead,
    MaskerHead,
    MLPMaskerHead,
    build_head,
    check_grouping,
    flat_head_args,
    group_outputs,
    make_head,
    register_head,
)
from .mask_activations import MASK_ACTIVATIONS, MaskActivation
from .overseparation import OverseparationMasker
from .recorded_config import RecordsConfig
from .simo_siso import SimoSisoTrunk
from .sliced_attention import SlicedAttentionTrunk, SlicedDotProductAttention
from .tcn import TCNTrunk
from .trunk import TRUNKS, Trunk, build_trunk, register_trunk
from .trunk_checks import check_trunk

__all__ = [
    "DPRNNTrunk",
    "DualPathRNN",
    "HEADS",
    "LinearMaskerHead",
    "MASK_ACTIVATIONS",
    "MLPMaskerHead",
    "MaskActivation",
    "MaskerHead",
    "OverseparationMasker",
    "RecordsConfig",
    "SimoSisoTrunk",
    "SlicedAttentionTrunk",
    "SlicedDotProductAttention",
    "TCNTrunk",
    "TRUNKS",
    "Trunk",
    "build_head",
    "build_trunk",
    "check_grouping",
    "check_trunk",
    "flat_head_args",
    "group_outputs",
    "make_head",
    "register_head",
    "register_trunk",
]
