"""wsj0-2mix and wsj0-3mix from a WSJ0 copy and MERL's mix lists (:mod:`~asteroid_deepmask.data.wsj0mix.corpus`).

The names of :mod:`~asteroid_deepmask.data.wsj0mix.corpus` are importable from here, as they were from the 0.1.0 module
``asteroid_deepmask.data.wsj0mix``.
"""
from .corpus import (MARKER, MIX_LISTS_URL, SOURCE_RATE, check_wsj0_root, download_mix_lists, find_mix_lists, mix,
                     mix_list_name, make_wsj0mix, read_active_levels, read_mix_list, read_wsj0)

__all__ = [
    "MARKER",
    "MIX_LISTS_URL",
    "SOURCE_RATE",
    "check_wsj0_root",
    "download_mix_lists",
    "find_mix_lists",
    "make_wsj0mix",
    "mix",
    "mix_list_name",
    "read_active_levels",
    "read_mix_list",
    "read_wsj0",
]
