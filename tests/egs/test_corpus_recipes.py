"""The wsj0-2mix, wsj0-3mix and WHAMR! recipes on stand-in corpora (fixtures of tests/conftest.py)."""
import json
import os
import subprocess
import sys

import pytest

from asteroid_deepmask.data import check_manifests
from asteroid_deepmask.data.whamr import check_scripts_python
from asteroid_deepmask.experiment.hparams import load_hparams
from asteroid_deepmask.utils.errors import SetupError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ("model.n_repeats=1 model.hid_size=16 model.bn_chan=16 model.chunk_size=20 model.hop_size=10 "
        "data.segment=0.5 training.max_epochs=1 training.batch_size=2")


def recipe(name, *args, **env_vars):
    env = {**os.environ, "PYTHON": sys.executable, **env_vars}
    return subprocess.run([os.path.join(ROOT, "egs", name, "run.sh"), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=900)


@pytest.mark.parametrize("name, options", [("wsj0-2mix", ["--wsj0", "--wsj0mix"]), ("wsj0-3mix", ["--wsj0", "--wsj0mix"]),
                                           ("whamr", ["--wsj0 DIR --wham-noise DIR", "--whamr"])])
def test_stage_0_without_data_says_which_option_to_set(name, options):
    out = recipe(name, "--stage", 0, "--stop-stage", 0)
    assert out.returncode != 0
    assert all(o in out.stderr for o in options) and "LDC93S6A" in out.stderr


@pytest.mark.parametrize("name, args, option", [
    ("wsj0-2mix", ["--wsj0", "/nonexistent/wsj0"], "--wsj0"),
    ("whamr", ["--wsj0", "/nonexistent/wsj0", "--wham-noise", "/nonexistent/noise"], "--wsj0"),
])
def test_a_wrong_path_is_named_before_any_download(name, args, option, tmp_path):
    # The downloads point at an unreachable host: reaching them would report a network failure.
    out = recipe(name, "--stage", 0, "--stop-stage", 0, "--corpus", tmp_path / "corpus", *args,
                 http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    assert out.returncode == 2, out.stderr[-2000:]
    assert f"{option} '/nonexistent/wsj0' is not a folder" in out.stderr and "download" not in out.stderr.lower()
    assert "Traceback" not in out.stderr and not (tmp_path / "corpus").exists()


@pytest.fixture(scope="module")
def wsj0_2mix(fake_wsj0, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wsj0-2mix")
    lists = fake_wsj0(tmp / "wsj0_wav")
    common = ["--wsj0", tmp / "wsj0_wav", "--mix-lists", lists, "--corpus", tmp / "corpus",
              "--manifests", tmp / "manifests", "--exp", tmp / "exp" / "baseline"]
    out = recipe("wsj0-2mix", *common, "--overrides", TINY)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return tmp, common, out


def test_wsj0_2mix_from_wsj0_to_hub_folder(wsj0_2mix):
    tmp, _, out = wsj0_2mix
    exp = tmp / "exp" / "baseline"
    assert json.loads((exp / "results.json").read_text())["dataset"] == "wsj0-2mix"
    assert (exp / "hub" / "model.safetensors").exists() and "| si_sdri |" in out.stdout
    assert len(json.loads((tmp / "manifests" / "tt.json").read_text())) == 2
    assert list((exp / "tensorboard").rglob("events.out.tfevents.*"))  # the TensorBoard log


def test_wsj0_2mix_stage_0_twice_changes_nothing(wsj0_2mix):
    tmp, common, _ = wsj0_2mix
    before = {p: p.stat().st_mtime_ns for p in (tmp / "corpus").rglob("*")}
    out = recipe("wsj0-2mix", *common, "--stage", 0, "--stop-stage", 1)
    assert out.returncode == 0, out.stderr[-2000:]
    assert {p: p.stat().st_mtime_ns for p in (tmp / "corpus").rglob("*")} == before


def test_compare_stage_prints_a_table_of_the_experiments(wsj0_2mix):
    tmp, common, _ = wsj0_2mix
    out = recipe("wsj0-2mix", *common, "--stage", 5, "--stop-stage", 5, "--compare", "hparams/wsj0-2mix/baseline.yaml",
                 "--overrides", TINY)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "skipping" in out.stdout  # the experiment trained in stage 2 is not trained again
    table = (tmp / "exp" / "comparison.md").read_text()
    assert "| Baseline: P=2, f=ReLU |" in table and "| 16.3 / 16.5 |" in table and table in out.stdout


def test_wsj0_3mix_generates_three_sources(fake_wsj0, tmp_path):
    lists = fake_wsj0(tmp_path / "wsj0_wav", n_src=3, mixtures=(2, 1, 1))
    out = recipe("wsj0-3mix", "--wsj0", tmp_path / "wsj0_wav", "--mix-lists", lists, "--corpus", tmp_path / "corpus",
                 "--manifests", tmp_path / "manifests", "--stage", 0, "--stop-stage", 1)
    assert out.returncode == 0, out.stderr[-2000:]
    entry = json.loads((tmp_path / "manifests" / "tr.json").read_text())[0]
    assert [os.path.basename(os.path.dirname(s)) for s in entry["sources"]] == ["s1", "s2", "s3"]
    assert "--n-src 3" in recipe("wsj0-3mix", "--help").stdout


def test_whamr_runs_the_official_scripts_once_and_reads_their_layout(fake_whamr_inputs, tmp_path):
    wsj0, noise, scripts, site = fake_whamr_inputs(tmp_path)
    args = ["--wsj0", wsj0, "--wham-noise", noise, "--whamr-scripts", scripts, "--corpus", tmp_path / "corpus",
            "--manifests", tmp_path / "manifests", "--stage", 0, "--stop-stage", 1]
    out = recipe("whamr", *args)  # the default makes WHAMR! here, from the metadata these stand-ins lack
    assert out.returncode != 0 and "lacks the WHAMR! metadata mix_2_spk_filenames_cv.csv" in out.stderr
    assert not (tmp_path / "corpus").exists()
    with pytest.raises(SetupError, match="--whamr-python") as err:  # today's pyroomacoustics cannot run the 2019 scripts
        check_scripts_python(sys.executable)
    assert "pyroomacoustics 0.3.1" in str(err.value) and "no longer has ShoeBox(absorption=...)" in str(err.value)
    args += ["--whamr-python", sys.executable]
    for _ in range(2):
        out = recipe("whamr", *args, PYTHONPATH=site)
        assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "corpus" / "calls.txt").read_text().count("\n") == 1  # the second run did not redo it
    entry = json.loads((tmp_path / "manifests" / "cv.json").read_text())[0]
    assert "/mix_both_reverb/" in entry["mix"] and ["/s1_reverb/" in entry["sources"][0], "/s2_reverb/" in entry["sources"][1]] == [True, True]
    # an existing WHAMR! folder, and the layout of anechoic targets, set by an override
    out = recipe("whamr", "--whamr", tmp_path / "corpus", "--manifests", tmp_path / "anechoic", "--stage", 0,
                 "--stop-stage", 1, "--overrides", "data.targets=anechoic")
    assert out.returncode == 0 and "using the existing corpus" in out.stdout, out.stderr[-2000:]
    entry = json.loads((tmp_path / "anechoic" / "tt.json").read_text())[0]
    assert "/mix_both_reverb/" in entry["mix"] and "/s2_anechoic/" in entry["sources"][1]


def test_training_refuses_manifests_of_another_layout(tmp_path):
    (tmp_path / "info.json").write_text(json.dumps({"folder": "wav8k/min", "mixture": "mix", "sources": "s{i}",
                                                    "n_src": 2, "sample_rate": 8000}))
    check_manifests(tmp_path, load_hparams(os.path.join(ROOT, "hparams", "wsj0-2mix", "mlp_l.yaml"))["data"])
    with pytest.raises(ValueError, match="remake them"):
        check_manifests(tmp_path, load_hparams(os.path.join(ROOT, "hparams", "wsj0-3mix", "mlp_l.yaml"))["data"])


def test_evaluation_adds_sir_sar_and_stoi_on_request(wsj0_2mix, tmp_path):
    import shutil

    from asteroid_deepmask.recipe.steps import main

    tmp, _, _ = wsj0_2mix
    shutil.copy(tmp / "exp" / "baseline" / "best_model.pth", tmp_path)
    assert main(["evaluate", "--manifests", str(tmp / "manifests"), "--exp", str(tmp_path), "--dataset", "wsj0-2mix",
                 "--metrics", "si_sdr", "sir", "sar", "stoi"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["metrics"]) == {"si_sdri", "siri", "sari", "stoii"}
    assert "| stoii |" in (tmp_path / "results.md").read_text()
