"""``python -m asteroid_deepmask.recipe STEP ...``: the steps the ``egs/*/run.sh`` stages call."""
import sys

from .steps import main

if __name__ == "__main__":  # importing it (the API reference, a doctest) runs nothing
    sys.exit(main())
