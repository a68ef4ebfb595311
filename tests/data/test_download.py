"""download_and_unpack: archives (zip, tar) put in place whole, a folder of them taken alone, an
interrupted run finished without downloading again, our leftovers swept, failures named."""
import os
import tarfile
import zipfile

import pytest

from asteroid_deepmask.data.download import download_and_unpack


def _archives(tmp_path):
    """The same tree as ``top/a.txt`` and ``top/sub/b.txt`` in a zip and a tar.gz; returns their URLs."""
    tree = tmp_path / "tree"
    (tree / "top" / "sub").mkdir(parents=True)
    (tree / "top" / "a.txt").write_text("a")
    (tree / "top" / "sub" / "b.txt").write_text("b")
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
        for name in ("top/a.txt", "top/sub/b.txt"):
            z.write(tree / name, name)
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as tar:
        tar.add(tree / "top", "top")
    return (tmp_path / "t.zip").as_uri(), (tmp_path / "t.tar.gz").as_uri()


@pytest.mark.parametrize("kind", [0, 1], ids=["zip", "tar.gz"])
def test_the_whole_archive_or_one_folder_of_it_lands_at_dest_and_the_work_folder_goes(kind, tmp_path):
    url = _archives(tmp_path)[kind]
    out = tmp_path / "out"
    assert download_and_unpack(url, out / "all", "fix") == str(out / "all")
    assert (out / "all" / "top" / "sub" / "b.txt").read_text() == "b"
    download_and_unpack(url, out / "sub", "fix", member="top/sub")
    assert os.listdir(out / "sub") == ["b.txt"]
    assert sorted(os.listdir(out)) == ["all", "sub"]  # no .download-* left


def test_into_an_existing_folder_only_what_is_missing_is_moved(tmp_path):
    url = _archives(tmp_path)[0]
    dest = tmp_path / "dest"
    (dest / "sub").mkdir(parents=True)  # moved there by an interrupted run
    (dest / "sub" / "b.txt").write_text("kept")
    download_and_unpack(url, dest, "fix", member="top", workdir=dest / ".download")
    assert (dest / "a.txt").read_text() == "a" and (dest / "sub" / "b.txt").read_text() == "kept"
    assert sorted(os.listdir(dest)) == ["a.txt", "sub"]


def test_an_interrupted_run_is_finished_without_downloading_again(tmp_path):
    url = _archives(tmp_path)[1]
    dest, workdir = tmp_path / "lists", tmp_path / ".download-lists"
    workdir.mkdir()
    os.replace(tmp_path / "t.tar.gz", workdir / "t.tar.gz")  # downloaded whole, then killed while unpacking
    (workdir / "unpacked" / "top").mkdir(parents=True)
    (workdir / "unpacked" / "top" / "half.txt").write_text("?")
    (workdir / "other.zip.partial").write_text("killed while downloading")
    download_and_unpack(url, dest, "fix")  # the URL is gone: the archive must come from the work folder
    assert sorted(p.name for p in dest.rglob("*.txt")) == ["a.txt", "b.txt"] and not workdir.exists()


def test_failures_name_the_url_and_the_fix(tmp_path):
    url = _archives(tmp_path)[0]
    with pytest.raises(FileNotFoundError, match=r"Could not download .*gone.zip .*Unzip it yourself\.$"):
        download_and_unpack((tmp_path / "gone.zip").as_uri(), tmp_path / "d", "Unzip it yourself.")
    assert not list((tmp_path / ".download-d").iterdir())  # no half download under the archive's name
    with pytest.raises(FileNotFoundError, match="holds no LibriSpeech/dev-clean/"):
        download_and_unpack(url, tmp_path / "e", "fix", member="LibriSpeech/dev-clean")
    assert not (tmp_path / "e").exists()
