"""Old module names (utils/moved.py): each is the moved module itself, with a DeprecationWarning naming the new place."""
import importlib
import sys

import pytest

from asteroid_deepmask.utils.moved import MOVED_AFTER_0_2_0, MOVED_MODULES


@pytest.mark.parametrize("old, new", sorted(MOVED_MODULES.items()))
def test_old_names_are_the_moved_modules(old, new, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_the_corpus_subpackages_give_the_names_of_the_modules_they_replace():
    from asteroid_deepmask.data.librimix import (MARKER, TASKS, TRAIN_SETS, check_librimix_inputs, claim_corpus,  # noqa: F401
                                                 corpus_plan, generate_librimix, make_librimix, split_folders,
                                                 task_layout)
    from asteroid_deepmask.data.mini2mix import make_mini2mix  # noqa: F401
    from asteroid_deepmask.data.whamr import (ENTRY_POINT, MIXTURES, TARGETS, WHAMR_SCRIPTS_URL,  # noqa: F401
                                              check_scripts_python, check_whamr_inputs, fetch_scripts, layout,
                                              make_whamr)
    from asteroid_deepmask.data.wsj0mix import (MIX_LISTS_URL, SOURCE_RATE, check_wsj0_root,  # noqa: F401
                                                download_mix_lists, find_mix_lists, make_wsj0mix, mix, mix_list_name,
                                                read_active_levels, read_mix_list, read_wsj0)
    assert all(old.startswith("asteroid_deepmask.data.") for old in MOVED_AFTER_0_2_0)
