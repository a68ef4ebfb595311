"""atomic_paths: a final name holds a whole file or its previous content; durable writes reach the disk."""
import os

import pytest

from asteroid_deepmask import atomic


@pytest.mark.parametrize("durable", [True, False])
def test_renamed_whole_and_flushed_only_when_durable(durable, tmp_path, monkeypatch):
    flushed = []
    monkeypatch.setattr(atomic, "_fsync", lambda path, flags: flushed.append(path))
    path = tmp_path / "a.txt"
    with atomic.atomic_paths(path, durable=durable) as (tmp,):
        with open(tmp, "w") as f:
            f.write("new")
        assert not path.exists()  # nothing under the final name until the block ends
    assert path.read_text() == "new" and list(tmp_path.iterdir()) == [path]
    assert (str(tmp) in flushed) == durable and bool(flushed) == durable


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_paths(path, durable=False) as (tmp,):
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


def test_sweep_removes_only_our_temporary_files_in_the_folder_and_below(tmp_path):
    from asteroid_deepmask.utils.atomic import PARTIAL_SUFFIX, sweep_partials

    kept = [tmp_path / "a.wav", tmp_path / "sub" / "b.wav", tmp_path / "sub" / "c.partial.txt"]
    swept = [tmp_path / ("a.wav" + PARTIAL_SUFFIX), tmp_path / "sub" / ("best_model.pth" + PARTIAL_SUFFIX)]
    (tmp_path / "sub").mkdir()
    for path in kept + swept:
        path.write_text("x")
    scratch = tmp_path / "sub" / (".mix.separating" + PARTIAL_SUFFIX)  # a killed scratch_folder's, with its files
    scratch.mkdir()
    (scratch / "mix_s1.wav").write_text("x")
    assert sweep_partials(tmp_path) == 3
    assert sorted(tmp_path.rglob("*.*")) == sorted(kept)
    assert sweep_partials(tmp_path / "missing") == 0


def test_a_scratch_folder_replaces_a_killed_runs_and_goes_when_done(tmp_path):
    from asteroid_deepmask.utils.atomic import PARTIAL_SUFFIX, scratch_folder

    left = tmp_path / (".work" + PARTIAL_SUFFIX)
    left.mkdir()
    (left / "old.wav").write_text("killed run")
    with pytest.raises(RuntimeError):
        with scratch_folder(tmp_path / ".work") as scratch:
            assert os.listdir(scratch) == []  # the leftover is gone before the new run writes
            (left / "new.wav").write_text("x")
            raise RuntimeError("failed")
    assert list(tmp_path.iterdir()) == []
