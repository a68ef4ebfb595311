"""Data: mixtures of mixtures for MixIT, and the offline mini2mix corpus."""
from .mini2mix import make_mini2mix
from .mixture_of_mixtures import mixtures_of_mixtures

__all__ = ["make_mini2mix", "mixtures_of_mixtures"]
