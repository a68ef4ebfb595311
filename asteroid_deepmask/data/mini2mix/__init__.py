"""mini2mix: a small offline corpus in wsj0-2mix layout
(:mod:`~asteroid_deepmask.data.mini2mix.corpus`), its speech synthesised from eSpeak NG voices
(:mod:`~asteroid_deepmask.data.mini2mix.synthetic_speech`), with unseen test speakers; for the
recipes.

The names of :mod:`~asteroid_deepmask.data.mini2mix.corpus` are importable from here, as they were
from the 0.1.0 module ``asteroid_deepmask.data.mini2mix``.
"""
from .corpus import MARKER, make_mini2mix

__all__ = ["MARKER", "make_mini2mix"]
