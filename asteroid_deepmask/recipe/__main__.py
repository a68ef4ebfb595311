"""``python -m asteroid_deepmask.recipe STEP ...``: the steps the ``egs/*/run.sh`` stages call."""
import sys

from .steps import main

sys.exit(main())
