import copy
import json
import os

import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask, SimoSisoTasNet
from asteroid_deepmask.cli import main
from asteroid_deepmask.complexity import count_complexity, paper_experiments
from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams

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
        assert {"name", "params_m", "macs_g", "macs_run_g", "paper_params_m", "paper_macs_g"} <= set(row)
        assert abs(row["macs_g"] - row["paper_macs_g"]) <= 0.06, row  # the README promises 0.06 G
        # The projections run on the frames, folded into the mask layer: what runs is within 0.25 G
        # of the baseline's (P = 16: +0.23 G), where the paper counts up to +0.7 G.
        assert 0 < row["macs_g"] - row["macs_run_g"] < 0.6, row
        assert abs(row["params_m"] - row["paper_params_m"]) <= 0.05, row
        assert round(row["params_m"], 1) == row["paper_params_m"], row  # every parameter cell, as printed
    by_name = {r["name"]: r for r in rows}
    for row in rows[:10]:
        assert row["macs_run_g"] - by_name["Baseline: P=2, f=ReLU"]["macs_run_g"] < 0.25, row
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


def _chunk_first_forward(self, x):
    """DualPathRNN as up to v0.1.0: the projection module called on the chunks (thop sees it there)."""
    from asteroid_deepmask.masknn.dual_path import overlap_add, split_chunks

    batch, _, n_frames = x.shape
    chunks = self.output(self.blocks(split_chunks(x, self.chunk_size, self.hop_size)))
    return overlap_add(chunks, n_frames, self.hop_size).reshape(batch, self.n_outputs, self.chan, n_frames)


def _thop_counts(model, n_samples):
    import thop

    from asteroid_deepmask.masknn import SlicedDotProductAttention
    from asteroid_deepmask.complexity import _count_sliced_attention

    probe = copy.deepcopy(model)
    probe.masker.fold_layers = False  # the paper's layout runs the projection and the head one by one
    return thop.profile(probe, inputs=(torch.zeros(1, n_samples),), verbose=False,
                        custom_ops={SlicedDotProductAttention: _count_sliced_attention})


@pytest.mark.parametrize("name,build", [
    ("dprnn_p16", lambda a: DPRNNDeepMask(n_src=2, n_outputs=16, **a)),
    ("dprnn_hop_3_mlp", lambda a: DPRNNDeepMask(n_src=2, hop_size=3, mask_head="mlp", head_hidden=8, **a)),
    ("simo_siso", lambda a: SimoSisoTasNet(n_src=2, n_outputs=4, n_simo=1, n_siso=1, **_dual_path_args(a))),
    ("siso_iterative", lambda a: SimoSisoTasNet(n_src=3, n_simo=0, n_siso=1, **_dual_path_args(a))),
])
def test_paper_macs_are_thops_count_of_the_chunk_first_layout(name, build, tiny_args, monkeypatch):
    """``macs_g`` and ``params_m`` are what thop counted when the projection ran on the chunks;
    ``macs_run_g`` is that minus the projection's MACs on the chunk positions plus those on the frames,
    less the projection again where the masker folds it into the head's first layer."""
    from asteroid_deepmask.masknn import DualPathRNN

    model = build(tiny_args)
    n_samples = 4000
    counts = count_complexity(model, seconds=n_samples / 8000)
    monkeypatch.setattr(DualPathRNN, "forward", _chunk_first_forward)
    macs, params = _thop_counts(model, n_samples)
    assert counts["macs_g"] * 1e9 == pytest.approx(macs, rel=1e-12)
    assert counts["params_m"] * 1e6 == pytest.approx(params, rel=1e-12)
    frames = (n_samples - tiny_args["kernel_size"]) // tiny_args["stride"] + 1
    saved = 0
    for module in model.modules():
        if isinstance(module, DualPathRNN):
            # The SISO stage sees each source: once per source (iterative) or the sources batched.
            items = model.masker.n_src if module is getattr(model.masker.trunk, "siso", None) else 1
            n_chunks = split_chunks_count(frames, module.chunk_size, module.hop_size)
            saved += items * module.output[1].weight.numel() * (module.chunk_size * n_chunks - frames)
            if module is getattr(model.masker.trunk, "dual_path", None):
                # Folded into the head's first layer; with K = H (= bn here) the fold costs what
                # that layer alone costs, so the projection's frames MACs are saved too.
                saved += module.output[1].weight.numel() * frames
    assert saved > 0
    assert (counts["macs_g"] - counts["macs_run_g"]) * 1e9 == pytest.approx(saved, rel=1e-9)


def _dual_path_args(tiny_args):
    return {k: v for k, v in tiny_args.items() if k != "n_repeats"}


def split_chunks_count(n_frames, chunk_size, hop_size):
    from asteroid_deepmask.masknn.dual_path import split_chunks

    return split_chunks(torch.zeros(1, 1, n_frames), chunk_size, hop_size).shape[-1]


def test_run_macs_at_p16_fold_the_projection_into_the_head(tiny_args):
    """At P = 16 the paper counts 16 * bn^2 MACs per chunk position for the projections; folded
    into the shared mask layer they cost nothing beyond that layer's 16 * N * bn per frame."""
    sec, sr = 0.5, 8000
    base, p16 = (count_complexity(DPRNNDeepMask(n_src=2, n_outputs=p, **tiny_args), seconds=sec) for p in (2, 16))
    frames = (int(sec * sr) - tiny_args["kernel_size"]) // tiny_args["stride"] + 1
    chunk, bn = tiny_args["chunk_size"], tiny_args["bn_chan"]
    positions = chunk * split_chunks_count(frames, chunk, chunk // 2)
    assert positions > 2 * frames  # the chunked sequence is about twice as long (50% overlap, padded ends)
    for c, p in ((base, 2), (p16, 16)):
        assert (c["macs_g"] - c["macs_run_g"]) * 1e9 == pytest.approx(p * bn * bn * positions, rel=1e-9)
    # What P = 16 adds over the baseline, as counted and as run.
    extra_head = 14 * tiny_args["n_filters"] * bn * frames
    assert (p16["macs_g"] - base["macs_g"]) * 1e9 == pytest.approx(14 * bn * bn * positions + extra_head, rel=1e-9)
    assert (p16["macs_run_g"] - base["macs_run_g"]) * 1e9 == pytest.approx(extra_head, rel=1e-9)
    assert p16["params_m"] == pytest.approx(count_complexity(DPRNNDeepMask(n_src=2, n_outputs=16, **tiny_args),
                                                             seconds=1.0)["params_m"])


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
    path = os.path.join(hparams_dir(), "wsj0-2mix", "p16_relu.yaml")
    code, out, _ = run_cli(capsys, "complexity", path, "--set", "model.n_repeats=1", "--seconds", "1")
    header, _, row = out.splitlines()
    cells = dict(zip(header.strip("|").split("|"), row.strip("|").split("|")))
    assert float(cells[" MACs run (G) "]) < float(cells[" MACs (G) "])  # the paper's count first


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
