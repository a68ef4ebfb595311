"""Modules that moved into subpackages, still importable by their old names until 0.3.0.

``import asteroid_deepmask.separate`` gives :mod:`asteroid_deepmask.deployment.long_files` (the
same module object) and a ``DeprecationWarning`` naming the new place. The package root holds
no file for them; :func:`install` puts a finder on ``sys.meta_path`` that knows the table below.

After 0.2.0 the corpus modules of ``data/`` moved into one subpackage per corpus the same way
(``asteroid_deepmask.data.librimix_mixing`` is :mod:`asteroid_deepmask.data.librimix.mixing`).
``asteroid_deepmask.data.librimix``, ``.whamr``, ``.wsj0mix`` and ``.mini2mix`` are those
subpackages now; each gives the public names of the 0.2.0 module of that name (they live in its
``corpus`` module, which is where to patch them).
"""
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED_MODULES = {
    "asteroid_deepmask.allocator": "asteroid_deepmask.deployment.allocator",
    "asteroid_deepmask.atomic": "asteroid_deepmask.utils.atomic",
    "asteroid_deepmask.checks": "asteroid_deepmask.utils.checks",
    "asteroid_deepmask.comparison": "asteroid_deepmask.recipe.comparison",
    "asteroid_deepmask.confidence": "asteroid_deepmask.recipe.confidence",
    "asteroid_deepmask.errors": "asteroid_deepmask.utils.errors",
    "asteroid_deepmask.evaluation": "asteroid_deepmask.recipe.evaluation",
    "asteroid_deepmask.faults": "asteroid_deepmask.training.faults",
    "asteroid_deepmask.hparams_check": "asteroid_deepmask.experiment.schema",
    "asteroid_deepmask.hparams_io": "asteroid_deepmask.experiment.hparams",
    "asteroid_deepmask.inference": "asteroid_deepmask.deployment.separators",
    "asteroid_deepmask.models.export": "asteroid_deepmask.deployment.export",
    "asteroid_deepmask.publishing": "asteroid_deepmask.recipe.publishing",
    "asteroid_deepmask.separate": "asteroid_deepmask.deployment.long_files",
    "asteroid_deepmask.training_log": "asteroid_deepmask.training.log",
}
#: Moved after 0.2.0: the corpus modules of ``data/``, into one subpackage per corpus.
MOVED_AFTER_0_2_0 = {
    "asteroid_deepmask.data.librimix_download": "asteroid_deepmask.data.librimix.download",
    "asteroid_deepmask.data.librimix_metadata": "asteroid_deepmask.data.librimix.metadata",
    "asteroid_deepmask.data.librimix_mixing": "asteroid_deepmask.data.librimix.mixing",
    "asteroid_deepmask.data.synthetic_speech": "asteroid_deepmask.data.mini2mix.synthetic_speech",
    "asteroid_deepmask.data.whamr_metadata": "asteroid_deepmask.data.whamr.metadata",
    "asteroid_deepmask.data.whamr_mixing": "asteroid_deepmask.data.whamr.mixing",
    "asteroid_deepmask.data.whamr_room": "asteroid_deepmask.data.whamr.room",
}
MOVED_MODULES.update(MOVED_AFTER_0_2_0)


class _Alias(importlib.abc.Loader):
    def __init__(self, old, new):
        self.old, self.new = old, new

    def create_module(self, spec):
        release = "after 0.2.0" if self.old in MOVED_AFTER_0_2_0 else "in 0.2.0"
        warnings.warn(f"{self.old} moved to {self.new} {release}; the old name goes in asteroid-deepmask 0.3.0",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module(self.new)

    def exec_module(self, module):
        """The module is already executed under its new name."""


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED_MODULES.get(fullname)
        return None if new is None else importlib.util.spec_from_loader(fullname, _Alias(fullname, new))


def install():
    """Make the 0.1.0 module names importable (idempotent)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
