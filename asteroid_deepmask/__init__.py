"""Deep mask estimation modules for Asteroid and SpeechBrain separation models.

Importing the package registers its models with ``asteroid.models``.
"""
__version__ = "0.1.0"

from .data import mixtures_of_mixtures  # noqa: E402
from .losses import MixITWrapper  # noqa: E402
from .masknn import (  # noqa: E402
    DPRNNTrunk,
    LinearMaskerHead,
    MaskerHead,
    MLPMaskerHead,
    OverseparationMasker,
    group_outputs,
    make_head,
)
from .masknn import SimoSisoDPRNN, SlicedAttentionMasker  # noqa: E402
from .models import (  # noqa: E402
    DeepMaskEncoderMaskerDecoder,
    DPRNNDeepMask,
    SimoSisoTasNet,
    SlicedAttentionTasNet,
)

__all__ = [
    "DPRNNDeepMask",
    "DPRNNTrunk",
    "DeepMaskEncoderMaskerDecoder",
    "LinearMaskerHead",
    "MLPMaskerHead",
    "MaskerHead",
    "MixITWrapper",
    "OverseparationMasker",
    "SimoSisoDPRNN",
    "SimoSisoTasNet",
    "SlicedAttentionMasker",
    "SlicedAttentionTasNet",
    "group_outputs",
    "make_head",
    "mixtures_of_mixtures",
]
