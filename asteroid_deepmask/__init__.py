"""Deep mask estimation modules for Asteroid and SpeechBrain separation models.

Importing the package registers its models with ``asteroid.models``.
"""
__version__ = "0.1.0"

from .masknn import (  # noqa: E402
    DPRNNTrunk,
    LinearMaskerHead,
    MaskerHead,
    MLPMaskerHead,
    OverseparationMasker,
    group_outputs,
    make_head,
)
from .models import DeepMaskEncoderMaskerDecoder, DPRNNDeepMask  # noqa: E402

__all__ = [
    "DPRNNDeepMask",
    "DPRNNTrunk",
    "DeepMaskEncoderMaskerDecoder",
    "LinearMaskerHead",
    "MLPMaskerHead",
    "MaskerHead",
    "OverseparationMasker",
    "group_outputs",
    "make_head",
]
