"""The recipes' steps: corpus making and manifests (``data``), training, evaluation, hub folders
and Table-2-style comparison, each behind one ``python -m asteroid_deepmask.recipe STEP``."""
from .steps import main

__all__ = ["main"]
