"""LibriMix (Libri2Mix, Libri3Mix) from LibriSpeech and the WHAM! noise, with the official metadata.

:mod:`~asteroid_deepmask.data.librimix.corpus` is what the recipe calls (the layout an experiment
reads, :func:`~asteroid_deepmask.data.librimix.corpus.generate_librimix`);
:mod:`~asteroid_deepmask.data.librimix.mixing` computes one mixture's signals as the official
generator does, :mod:`~asteroid_deepmask.data.librimix.metadata` reads (or downloads) the metadata
CSVs and :mod:`~asteroid_deepmask.data.librimix.download` fetches the ``--download`` archives. The
names of :mod:`~asteroid_deepmask.data.librimix.corpus` are importable from here, as they were from
the 0.1.0 module ``asteroid_deepmask.data.librimix``.
"""
from .corpus import (MARKER, TASKS, TRAIN_SETS, check_librimix_inputs, claim_corpus, corpus_plan, generate_librimix,
                     make_librimix, split_folders, task_layout)

__all__ = [
    "MARKER",
    "TASKS",
    "TRAIN_SETS",
    "check_librimix_inputs",
    "claim_corpus",
    "corpus_plan",
    "generate_librimix",
    "make_librimix",
    "split_folders",
    "task_layout",
]
