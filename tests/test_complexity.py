import json
import os

import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.cli import main
from asteroid_deepmask.complexity import count_complexity, paper_experiments
from asteroid_deepmask.hparams_io import hparams_dir, load_hparams

EXPECTED_ROWS = [
    "Baseline: P=2, f=ReLU", "P=2, f=none", "P=4, f=ReLU", "P=4, f=none", "P=8, f=ReLU",
    "P=8, f=none", "P=16, f=ReLU", "P=16, f=none", "MLP (S), 16 hidden", "MLP (L), 64 hidden",
    "Baseline, 9 DPRNN blocks", "Baseline, 12 DPRNN blocks",
]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_paper_rows_match_the_paper(capsys):
    code, out, _ = run_cli(capsys, "complexity", "--paper", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == EXPECTED_ROWS
    for row in rows:
        assert {"name", "params_m", "macs_g", "paper_params_m", "paper_macs_g"} <= set(row)
        assert abs(row["macs_g"] - row["paper_macs_g"]) <= 0.1, row
        assert abs(row["params_m"] - row["paper_params_m"]) <= 0.05, row
        assert round(row["params_m"], 1) == row["paper_params_m"], row  # every parameter cell, as printed
    by_name = {r["name"]: r for r in rows}
    # The deep head costs about nothing; overseparation grows with P.
    assert by_name["MLP (L), 64 hidden"]["macs_g"] - by_name["Baseline: P=2, f=ReLU"]["macs_g"] < 0.1
    assert by_name["P=16, f=ReLU"]["macs_g"] > by_name["P=8, f=ReLU"]["macs_g"] > by_name["P=4, f=ReLU"]["macs_g"]


def test_every_paper_experiment_trains_from_its_file():
    for path in paper_experiments():
        hp = load_hparams(path)
        assert hp["training"]["loss"] == "neg_snr" and hp["training"]["batch_size"] == 4
        assert hp["optim"]["lr"] == 0.001 and hp["training"]["gradient_clip_norm"] == 5.0
        assert hp["model"]["name"] == "DPRNNDeepMask"


def test_head_macs_follow_the_layer_sizes(tiny_args):
    """Overseparation adds exactly the MACs of its extra 1x1 layers (thop counts grouped convs)."""
    base = dict(n_src=2, **tiny_args)
    sec, sr = 0.5, 8000
    c2 = count_complexity(DPRNNDeepMask(**base), seconds=sec)
    c4 = count_complexity(DPRNNDeepMask(n_outputs=4, **base), seconds=sec)
    frames = (int(sec * sr) - tiny_args["kernel_size"]) // tiny_args["stride"] + 1
    chunk, hop, bn, n = tiny_args["chunk_size"], tiny_args["chunk_size"] // 2, tiny_args["bn_chan"], tiny_args["n_filters"]
    n_chunks = (frames + 2 * chunk - chunk) // hop + 1
    extra_trunk = 2 * bn * bn * chunk * n_chunks  # thop counts no bias MACs
    extra_head = 2 * n * bn * frames
    assert (c4["macs_g"] - c2["macs_g"]) * 1e9 == pytest.approx(extra_trunk + extra_head, rel=1e-6)
    assert c4["params_total_m"] * 1e6 == sum(p.numel() for p in DPRNNDeepMask(n_outputs=4, **base).parameters())


def test_complexity_of_any_file_with_overrides(capsys):
    path = os.path.join(hparams_dir(), "wsj0-2mix", "baseline.yaml")
    code, out, _ = run_cli(
        capsys, "complexity", path, "--set", "model.n_repeats=1", "--set", "model.hid_size=8", "--json", "--seconds", "0.5"
    )
    (row,) = json.loads(out)
    assert code == 0 and row["macs_g"] < 0.5 and row["paper_macs_g"] == 21.5


def test_table_output(capsys):
    path = os.path.join(hparams_dir(), "wsj0-2mix", "mlp_s.yaml")
    code, out, _ = run_cli(capsys, "complexity", path, "--set", "model.n_repeats=1", "--seconds", "0.25")
    assert code == 0 and out.splitlines()[0].startswith("| model |") and "MLP (S)" in out


def test_cli_errors(capsys, tmp_path):
    with pytest.raises(SystemExit, match="give --paper or one or more hparams files"):
        main(["complexity"])
    code, _, err = run_cli(capsys, "complexity", str(tmp_path / "nope.yaml"))
    assert code == 2 and "No experiment file" in err
    path = os.path.join(hparams_dir(), "wsj0-2mix", "baseline.yaml")
    code, _, err = run_cli(capsys, "complexity", path, "--set", "model.n_outputs=3")
    assert code == 2 and "n_outputs=3 cannot be grouped" in err


def test_hparams_extends_and_overrides(tmp_path):
    (tmp_path / "parent.yaml").write_text("model: {a: 1, b: {c: 2, d: 3}}\noptim: {lr: 0.1}\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nmodel: {b: {c: 5}}\n")
    hp = load_hparams(tmp_path / "child.yaml", ["optim.lr=0.5", "training.epochs=3"])
    assert hp == {"model": {"a": 1, "b": {"c": 5, "d": 3}}, "optim": {"lr": 0.5}, "training": {"epochs": 3}}
    with pytest.raises(ValueError, match="section.key=value"):
        load_hparams(tmp_path / "child.yaml", ["optim.lr"])
    (tmp_path / "loop.yaml").write_text("extends: loop.yaml\n")
    with pytest.raises(ValueError, match="loops back"):
        load_hparams(tmp_path / "loop.yaml")


def test_count_complexity_needs_a_length(tiny_dprnn):
    with pytest.raises(ValueError, match="seconds=0"):
        count_complexity(tiny_dprnn(n_src=2), seconds=0)
    assert torch.is_grad_enabled()


EXPERIMENTS = sorted(
    os.path.relpath(p, hparams_dir())
    for p in __import__("glob").glob(os.path.join(hparams_dir(), "*", "*.yaml"))
    if not p.endswith("_base.yaml") and os.sep + "speechbrain" + os.sep not in p
)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_file_builds_its_model(name):
    from asteroid_deepmask.models import build_model

    hp = load_hparams(os.path.join(hparams_dir(), name))
    model = build_model(hp["model"])
    assert model.masker.n_src == hp["data"].get("n_src", hp["model"]["n_src"]) == hp["model"]["n_src"]
    assert {"training", "optim", "scheduler", "data"} <= set(hp)
    if "paper" in hp:
        assert hp["data"]["dataset"] in name.split(os.sep)[0]
