"""Separation models, registered with ``asteroid.models`` on import."""
from .base import DeepMaskEncoderMaskerDecoder
from .conv_tasnet_deepmask import ConvTasNetDeepMask
from .deepmask_tasnet import DeepMaskTasNet
from .dprnn_deepmask import DPRNNDeepMask
from .pretrained import load_checkpoint, load_pretrained
from .preset import DeepMaskPreset
from .registry import build_model, get_model_class, register_model
from .simo_siso_tasnet import SimoSisoTasNet
from .sliced_attention_tasnet import SlicedAttentionTasNet

__all__ = [
    "ConvTasNetDeepMask",
    "DPRNNDeepMask",
    "DeepMaskEncoderMaskerDecoder",
    "DeepMaskPreset",
    "DeepMaskTasNet",
    "SimoSisoTasNet",
    "SlicedAttentionTasNet",
    "build_model",
    "get_model_class",
    "load_checkpoint",
    "load_pretrained",
    "register_model",
]
