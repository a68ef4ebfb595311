"""One gate for experiment files: a refused value writes nothing and the corrected rerun trains;
a step skips what it has done and ``--force`` starts it over; folders of older versions resume."""
import json
import os

import pytest
import torch
import yaml

from asteroid_deepmask import recipe
from asteroid_deepmask.experiment import folder
from asteroid_deepmask.experiment.schema import VERSION_KEY, check_same_experiment, with_defaults
from asteroid_deepmask.version import __version__


def train(tiny_experiment, exp, *overrides, force=False):
    hparams, manifests = tiny_experiment
    sets = [a for o in ("training.max_epochs=1", *overrides) for a in ("--set", o)]
    return recipe.main(["train", "--hparams", hparams, "--manifests", manifests, "--exp", str(exp), *sets,
                        *(["--force"] if force else [])])


def files(exp):
    return {str(p.relative_to(exp)): p.stat().st_mtime_ns for p in exp.rglob("*") if p.is_file()}


@pytest.mark.parametrize("wrong, corrected, message", [
    ("training.precision=16-mixed", "training.precision=32", "training.precision=16-mixed in .* needs a GPU"),
    ("optim.optimizer=sgd", "optim.optimizer=adam", "optim.optimizer='sgd' in .*; choose one of adam"),
])
def test_a_refused_value_writes_nothing_and_the_corrected_rerun_trains(tiny_experiment, tmp_path, capsys, wrong,
                                                                       corrected, message):
    exp = tmp_path / "exp"
    assert train(tiny_experiment, exp, wrong) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("recipe train: error: ")
    assert __import__("re").search(message, err[0]), err[0]
    assert not exp.exists()
    assert train(tiny_experiment, exp, corrected) == 0
    assert (exp / folder.MODEL).is_file()
    saved = yaml.safe_load((exp / folder.HPARAMS).read_text())
    assert saved[VERSION_KEY] == __version__ and saved["optim"]["optimizer"] == "adam"
    assert saved["training"]["precision"] == "32" and saved["training"]["loss"] == "neg_snr"  # defaults written out


def test_a_finished_run_is_skipped_and_force_starts_it_over(tiny_experiment, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert train(tiny_experiment, exp) == 0
    (exp / "notes.txt").write_text("mine")  # not training's: --force leaves it
    before = files(exp)
    capsys.readouterr()
    assert train(tiny_experiment, exp) == 0
    assert f"== train: {exp / folder.MODEL} exists; skipping (--force redoes it)" in capsys.readouterr().out
    assert files(exp) == before
    (exp / folder.CHECKPOINTS / "stale.ckpt").write_text("")
    assert train(tiny_experiment, exp, force=True) == 0
    after = files(exp)
    assert after[folder.MODEL] > before[folder.MODEL] and (exp / "notes.txt").read_text() == "mine"
    assert not (exp / folder.CHECKPOINTS / "stale.ckpt").exists()
    assert sorted(os.listdir(exp / folder.LOGS)) == ["version_0"]  # the logs of the first run went too
    assert json.loads((exp / folder.TRAIN_TIME).read_text())["resumed"] is False


def test_a_folder_of_an_older_version_resumes_with_the_defaults(tiny_experiment, tmp_path, monkeypatch):
    exp = tmp_path / "exp"
    assert train(tiny_experiment, exp) == 0
    saved = yaml.safe_load((exp / folder.HPARAMS).read_text())
    del saved[VERSION_KEY], saved["training"]["loss"], saved["training"]["num_workers"], saved["scheduler"]["factor"]
    (exp / folder.HPARAMS).write_text(yaml.safe_dump(saved))  # as 0.1.0 wrote it: no version, keys added since
    loaded, real_load = [], torch.load

    def load(f, *args, **kwargs):
        loaded.append(str(getattr(f, "path", None) or getattr(f, "name", None) or f))
        return real_load(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    assert train(tiny_experiment, exp, "training.max_epochs=2") == 0
    assert [p for p in loaded if p.endswith("last.ckpt")] == [str(exp / folder.LAST_CHECKPOINT)]  # read once
    assert json.loads((exp / folder.TRAIN_TIME).read_text())["resumed"] is True
    resaved = yaml.safe_load((exp / folder.HPARAMS).read_text())
    assert resaved[VERSION_KEY] == __version__ and resaved["scheduler"]["factor"] == 0.5


def test_resuming_refuses_real_differences_by_name_and_fills_missing_keys():
    old = {"training": {"batch_size": 4, "seed": 0}, "optim": {"lr": 0.001}}  # written before the defaults
    check_same_experiment(old, with_defaults({**old, VERSION_KEY: "9.9.9"}), "exp/hparams.yaml")
    with pytest.raises(ValueError, match=r"^exp/hparams.yaml holds another experiment \(training.loss: 'neg_snr' -> "
                                         r"'neg_sisdr'\); .*start it over \(--force\)\.$"):
        check_same_experiment(old, {**old, "training": {**old["training"], "loss": "neg_sisdr"}}, "exp/hparams.yaml")
    longer = {**old, "training": {**old["training"], "max_epochs": 50, "num_workers": 2}}
    check_same_experiment(old, longer, "exp/hparams.yaml")  # more epochs, other hardware: the same experiment


def test_evaluation_is_skipped_once_done_and_force_redoes_it(tiny_experiment, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert train(tiny_experiment, exp) == 0
    args = ["evaluate", "--manifests", tiny_experiment[1], "--exp", str(exp), "--dataset", "tiny", "--metrics",
            "si_sdr"]
    capsys.readouterr()
    assert recipe.main(args) == 0
    said, table = capsys.readouterr().out.split("\n", 1)
    assert said == f"scoring 1 utterances of {tiny_experiment[1]}/tt.json (si_sdr)"
    written = {name: (exp / name).stat().st_mtime_ns for name in folder.STEP_OUTPUTS["evaluate"]}
    (exp / "notes.txt").write_text("mine")
    assert recipe.main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"== evaluate: {exp / folder.RESULTS} exists; skipping") and out.endswith(table)
    assert {name: (exp / name).stat().st_mtime_ns for name in written} == written
    assert recipe.main([*args, "--force"]) == 0
    assert all((exp / name).stat().st_mtime_ns > written[name] for name in written)
    assert (exp / "notes.txt").exists() and (exp / folder.MODEL).exists()


def test_a_step_that_runs_sweeps_what_a_killed_run_left(tmp_path, capsys):
    exp = folder.ExperimentFolder(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    left = [tmp_path / f"{folder.RESULTS}.partial", tmp_path / "checkpoints" / "last.ckpt.partial"]
    for path in left:
        path.write_text("half")
    (tmp_path / "notes.partial.txt").write_text("mine")
    (tmp_path / folder.RESULTS).write_text("{}")
    assert not exp.should_run("evaluate", force=False)  # a skipped step writes nothing, so it sweeps nothing
    assert all(path.exists() for path in left)
    assert exp.should_run("train", force=False)
    assert not any(path.exists() for path in left) and (tmp_path / "notes.partial.txt").exists()


def test_skipping_an_evaluation_of_another_model_or_precision_is_refused(tiny_experiment, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert train(tiny_experiment, exp) == 0
    args = ["evaluate", "--manifests", tiny_experiment[1], "--exp", str(exp), "--dataset", "tiny", "--metrics",
            "si_sdr"]
    assert recipe.main(args) == 0
    written = (exp / folder.RESULTS).read_bytes()
    capsys.readouterr()
    assert recipe.main([*args, "--precision", "bf16"]) == 2
    err = capsys.readouterr().err
    assert f"{exp / folder.RESULTS} holds the scores of" in err and "in precision bf16, give --out DIR" in err
    assert (exp / folder.RESULTS).read_bytes() == written
    assert recipe.main([*args, "--precision", "bf16", "--out", str(tmp_path / "bf16")]) == 0
    assert json.loads((tmp_path / "bf16" / folder.RESULTS).read_text())["separator"]["precision"] == "bf16"
    capsys.readouterr()
    assert recipe.main([*args, "--model", str(tmp_path / "none.onnx"), "--out", str(tmp_path / "onnx")]) == 2
    assert "No model at" in capsys.readouterr().err
