"""Separation models, registered with ``asteroid.models`` on import."""
from .base import DeepMaskEncoderMaskerDecoder, load_checkpoint
from .dprnn_deepmask import DPRNNDeepMask
from .registry import build_model, get_model_class, register_model
from .simo_siso_tasnet import SimoSisoTasNet
from .sliced_attention_tasnet import SlicedAttentionTasNet

__all__ = [
    "DPRNNDeepMask",
    "build_model",
    "DeepMaskEncoderMaskerDecoder",
    "get_model_class",
    "load_checkpoint",
    "register_model",
    "SimoSisoTasNet",
    "SlicedAttentionTasNet",
]
