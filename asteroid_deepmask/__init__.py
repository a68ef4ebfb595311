"""Deep mask estimation modules for Asteroid and SpeechBrain separation models.

Importing the package registers its models with ``asteroid.models``, and its trunks and mask
heads with :func:`register_trunk` / :func:`register_head`.
"""
from .version import __version__
from .utils import moved as _moved
from .data import mixtures_of_mixtures
from .losses import MixITWrapper
from .masknn import (
    DPRNNTrunk,
    LinearMaskerHead,
    MaskerHead,
    MLPMaskerHead,
    OverseparationMasker,
    SimoSisoTrunk,
    SlicedAttentionTrunk,
    TCNTrunk,
    Trunk,
    check_trunk,
    group_outputs,
    make_head,
    register_head,
    register_trunk,
)
from .models import (
    ConvTasNetDeepMask,
    DeepMaskEncoderMaskerDecoder,
    DeepMaskTasNet,
    DPRNNDeepMask,
    SimoSisoTasNet,
    SlicedAttentionTasNet,
)

_moved.install()

__all__ = [
    "ConvTasNetDeepMask",
    "DPRNNDeepMask",
    "DPRNNTrunk",
    "DeepMaskEncoderMaskerDecoder",
    "DeepMaskTasNet",
    "LinearMaskerHead",
    "MLPMaskerHead",
    "MaskerHead",
    "MixITWrapper",
    "OverseparationMasker",
    "SimoSisoTasNet",
    "SimoSisoTrunk",
    "SlicedAttentionTasNet",
    "SlicedAttentionTrunk",
    "TCNTrunk",
    "Trunk",
    "__version__",
    "check_trunk",
    "group_outputs",
    "make_head",
    "mixtures_of_mixtures",
    "register_head",
    "register_trunk",
]
