"""Data helpers."""
from .mixture_of_mixtures import mixtures_of_mixtures

__all__ = ["mixtures_of_mixtures"]
