import os

import numpy as np
import pytest
import soundfile as sf

from asteroid_deepmask.data.active_level import active_power
from asteroid_deepmask.data.wsj0mix import make_wsj0mix, read_mix_list


def test_active_power_ignores_long_silences_and_scales_with_the_signal(fake_utterance):
    rng = np.random.default_rng(0)
    speech = fake_utterance(rng, 2.0)
    padded = np.concatenate([np.zeros(32000), speech, np.zeros(32000)])
    # only the 200 ms hangover after the speech counts of the 4 s of silence
    assert active_power(padded, 16000) == pytest.approx(active_power(speech, 16000), rel=0.2)
    assert np.mean(padded**2) < 0.6 * active_power(padded, 16000)  # a plain mean would count the silence
    assert active_power(3 * speech, 16000) == pytest.approx(9 * active_power(speech, 16000), rel=0.01)
    with pytest.raises(ValueError, match="silent"):
        active_power(np.zeros(100), 16000)


@pytest.fixture(scope="module")
def corpus(fake_wsj0, tmp_path_factory):
    root = tmp_path_factory.mktemp("wsj0")
    lists = fake_wsj0(root)
    make_wsj0mix(root, lists, root / "out")
    return root, lists


def test_mixtures_follow_the_list(corpus):
    root, lists = corpus
    entries = read_mix_list(os.path.join(lists, "mix_2_spk_tt.txt"), 2)
    split = root / "out" / "wav8k" / "min" / "tt"
    assert sorted(os.listdir(split / "mix")) == sorted(name + ".wav" for name, _, _ in entries)
    for name, paths, levels in entries:
        (mix, rate), s1, s2 = sf.read(split / "mix" / f"{name}.wav"), *(sf.read(split / k / f"{name}.wav")[0] for k in ("s1", "s2"))
        assert rate == 8000 and sf.info(split / "mix" / f"{name}.wav").subtype == "PCM_16"
        shortest = (min(sf.info(root / p).frames for p in paths) + 1) // 2
        assert len(mix) == len(s1) == len(s2) == shortest  # "min": cut to the shorter utterance
        assert np.abs(mix - s1 - s2).max() < 3 / 2**15  # the mixture is the sum, up to rounding
        assert max(np.abs(mix).max(), np.abs(s1).max(), np.abs(s2).max()) == pytest.approx(0.9, abs=1e-3)
        relative = 10 * np.log10(active_power(s1, 8000) / active_power(s2, 8000))
        assert relative == pytest.approx(levels[0] - levels[1], abs=1.0)


def test_second_run_changes_nothing_and_an_interrupted_run_resumes(corpus):
    root, lists = corpus
    files = [p for p in (root / "out").rglob("*.wav")]
    before = {p: p.stat().st_mtime_ns for p in files}
    make_wsj0mix(root, lists, root / "out")
    assert {p: p.stat().st_mtime_ns for p in files} == before
    marker = root / "out" / "wsj0mix.json"
    marker.write_text(marker.read_text().replace('"complete": true', '"complete": false'))  # as if killed
    files[0].unlink()
    leftover = files[0].parent / (files[0].name + ".partial")  # the file the killed run was writing
    leftover.write_bytes(b"half a wav")
    make_wsj0mix(root, lists, root / "out")
    assert files[0].exists()  # the interrupted mixture is written again, the others are left alone
    assert not list((root / "out").rglob("*.partial"))
    assert all(p.stat().st_mtime_ns == t for p, t in before.items() if p.name != files[0].name)


def test_refuses_folders_it_did_not_make_and_other_settings(corpus, tmp_path):
    root, lists = corpus
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="not empty"):
        make_wsj0mix(root, lists, tmp_path)
    with pytest.raises(ValueError, match="other settings"):
        make_wsj0mix(root, lists, root / "out", modes=("max",))
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_precomputed_levels_set_the_scaling(corpus, tmp_path):
    root, lists = corpus
    levels = tmp_path / "levels"
    levels.mkdir()
    utts = {os.path.splitext(p.name)[0] for p in (root / "wsj0").rglob("*.wav")}
    (levels / "all.txt").write_text("".join(f"{u} 1.0\n" for u in sorted(utts)))
    make_wsj0mix(root, lists, tmp_path / "out", active_levels=levels)
    from scipy.signal import resample_poly

    for name, paths, dbs in read_mix_list(os.path.join(lists, "mix_2_spk_cv.txt"), 2):
        gains = []
        for k, path in enumerate(paths):
            written = sf.read(tmp_path / "out" / "wav8k" / "min" / "cv" / f"s{k + 1}" / f"{name}.wav")[0]
            utterance = resample_poly(sf.read(root / path)[0], 1, 2)[: len(written)]
            gains.append(written @ utterance / (utterance @ utterance))
        # with every active power 1, the sources differ only by the list's levels
        assert gains[0] / gains[1] == pytest.approx(10 ** ((dbs[0] - dbs[1]) / 20), rel=1e-3)


def test_clear_errors_for_missing_or_unconverted_data(corpus, tmp_path):
    root, lists = corpus
    with pytest.raises(FileNotFoundError, match="--wsj0"):
        make_wsj0mix(tmp_path / "nowhere", lists, tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="mix_3_spk_tr.txt"):
        make_wsj0mix(root, lists, tmp_path / "b", n_src=3)
    sphere = tmp_path / "sphere"
    for wav in (root / "wsj0").rglob("*.wav"):
        target = sphere / wav.relative_to(root).with_suffix(".wv1")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"NIST_1A")
    with pytest.raises(FileNotFoundError, match="sph2pipe"):
        make_wsj0mix(sphere, lists, tmp_path / "c")
    bad = tmp_path / "bad"
    bad.mkdir()
    for split in ("tr", "cv", "tt"):
        (bad / f"mix_2_spk_{split}.txt").write_text("wsj0/a.wav 1.0 wsj0/b.wav\n")
    with pytest.raises(ValueError, match="line 1: expected 2 pairs"):
        make_wsj0mix(root, bad, tmp_path / "d")


def test_mix_lists_and_whamr_scripts_are_downloaded_once(corpus, tmp_path, monkeypatch):
    import tarfile
    import zipfile

    from asteroid_deepmask.data.whamr import corpus as whamr
    from asteroid_deepmask.data.wsj0mix import corpus as wsj0mix

    root, lists = corpus
    with zipfile.ZipFile(tmp_path / "create-speaker-mixtures.zip", "w") as z:
        for name in sorted(os.listdir(lists)):
            z.write(os.path.join(lists, name), f"create-speaker-mixtures/{name}")
    (tmp_path / "whamr_scripts").mkdir()
    (tmp_path / "whamr_scripts" / whamr.ENTRY_POINT).write_text("")
    with tarfile.open(tmp_path / "whamr_scripts.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "whamr_scripts", "whamr_scripts")
    monkeypatch.setattr(wsj0mix, "MIX_LISTS_URL", (tmp_path / "create-speaker-mixtures.zip").as_uri())
    monkeypatch.setattr(whamr, "WHAMR_SCRIPTS_URL", (tmp_path / "whamr_scripts.tar.gz").as_uri())
    downloads = tmp_path / "downloads"
    found = wsj0mix.find_mix_lists(wsj0mix.download_mix_lists(downloads), 2)
    assert sorted(found) == ["cv", "tr", "tt"] and read_mix_list(found["tt"], 2)
    scripts = whamr.fetch_scripts(downloads)
    assert os.path.isfile(os.path.join(scripts, whamr.ENTRY_POINT))
    (tmp_path / "create-speaker-mixtures.zip").unlink()  # a second call needs no download
    assert wsj0mix.download_mix_lists(downloads) == str(downloads / "lists")
    monkeypatch.setattr(wsj0mix, "MIX_LISTS_URL", (tmp_path / "gone.zip").as_uri())
    with pytest.raises(FileNotFoundError, match="--mix-lists"):
        wsj0mix.download_mix_lists(tmp_path / "elsewhere")
