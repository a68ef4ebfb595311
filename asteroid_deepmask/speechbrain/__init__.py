"""SpeechBrain integration: MaskNet modules and filterbanks for HyperPyYAML separation recipes,
losses with SpeechBrain's signature, and export to a SpeechBrain pretrained folder."""
import warnings

from .export import export_model_to_speechbrain, export_speechbrain
from .filterbanks import FilterbankDecoder, FilterbankEncoder
from .losses import get_sisnr_with_pitwrapper, get_snr_with_pitwrapper
from .masknets import DualPathDeepMask, MaskNet

__all__ = [
    "DualPathDeepMask",
    "FilterbankDecoder",
    "FilterbankEncoder",
    "MaskNet",
    "export_model_to_speechbrain",
    "export_speechbrain",
    "get_sisnr_with_pitwrapper",
    "get_snr_with_pitwrapper",
]

#: Names of 0.1.0 that 0.2.0 renamed, importable with a DeprecationWarning until 0.3.0.
RENAMED = {"export_model": "export_model_to_speechbrain"}


def __getattr__(name):
    if name in RENAMED:
        warnings.warn(f"asteroid_deepmask.speechbrain.{name} is now {RENAMED[name]} (asteroid-deepmask 0.2.0; "
                      "asteroid_deepmask.deployment.export.export_model writes ONNX or TorchScript); the old name "
                      "goes in 0.3.0", DeprecationWarning, stacklevel=2)
        return globals()[RENAMED[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
