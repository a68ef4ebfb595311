"""SpeechBrain integration: MaskNet modules and filterbanks for HyperPyYAML separation recipes,
losses with SpeechBrain's signature, and export to a SpeechBrain pretrained folder."""
from .export import export_model, export_speechbrain
from .filterbanks import FilterbankDecoder, FilterbankEncoder
from .losses import get_sisnr_with_pitwrapper, get_snr_with_pitwrapper
from .masknets import DualPathDeepMask, MaskNet

__all__ = [
    "DualPathDeepMask",
    "FilterbankDecoder",
    "FilterbankEncoder",
    "MaskNet",
    "export_model",
    "export_speechbrain",
    "get_sisnr_with_pitwrapper",
    "get_snr_with_pitwrapper",
]
