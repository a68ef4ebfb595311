"""WHAMR! (noisy, reverberant wsj0-2mix): its layout, made here or by the official scripts.

:mod:`~asteroid_deepmask.data.whamr.corpus` holds the layout an experiment reads and runs the
official scripts in a second interpreter (:func:`~asteroid_deepmask.data.whamr.corpus.make_whamr`);
:mod:`~asteroid_deepmask.data.whamr.mixing` makes the corpus in this environment
(:func:`~.mixing.make_whamr_corpus`) from the official metadata
(:mod:`~asteroid_deepmask.data.whamr.metadata`) and the rooms simulated by
:mod:`~asteroid_deepmask.data.whamr.room`. The names of :mod:`~asteroid_deepmask.data.whamr.corpus`
are importable from here, as they were from the 0.1.0 module ``asteroid_deepmask.data.whamr``.
"""
from .corpus import (ENTRY_POINT, MARKER, MIXTURES, TARGETS, WHAMR_SCRIPTS_URL, check_scripts_python,
                     check_whamr_inputs, fetch_scripts, layout, make_whamr)

__all__ = [
    "ENTRY_POINT",
    "MARKER",
    "MIXTURES",
    "TARGETS",
    "WHAMR_SCRIPTS_URL",
    "check_scripts_python",
    "check_whamr_inputs",
    "fetch_scripts",
    "layout",
    "make_whamr",
]
