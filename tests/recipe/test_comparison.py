"""The comparison table: seeds grouped into rows, their mean and Student-t confidence interval."""
import json
import math
import subprocess
import sys

import pytest
import yaml
from scipy import stats

from asteroid_deepmask.recipe.comparison import comparison_markdown, comparison_row, group_seeds

HPARAMS = {"paper": {"name": "MLP (L)", "si_sdri": 18.0, "sdri": 18.1}, "model": {"n_outputs": 2},
           "training": {"seed": 0, "batch_size": 8}}


def fake_exp(folder, si_sdri, sdri, seed=0, train_seconds=None, resumed=False, hparams=HPARAMS,
             selections=None):
    """An evaluated experiment folder as training, evaluation and stage 5 leave it (``selections``: the
    metrics of an overseparated model's P outputs)."""
    folder.mkdir(parents=True)
    metrics = {"si_sdri": si_sdri, "sdri": sdri, **(selections or {})}
    (folder / "results.json").write_text(json.dumps({"metrics": metrics,
                                                     "complexity": {"params_m": 0.0912, "macs_g_4s": 0.734}}))
    (folder / "hparams.yaml").write_text(yaml.safe_dump({**hparams, "training": {**hparams["training"], "seed": seed}}))
    if train_seconds is not None:
        (folder / "train_time.json").write_text(json.dumps({"train_seconds": train_seconds, "resumed": resumed}))
    return str(folder)


def student_ci(values):
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)


def test_seeds_of_one_experiment_make_one_row_with_a_student_t_interval(tmp_path):
    si, sd, times = [5.1, 6.3, 5.7], [5.9, 6.8, 6.2], [100.0, 130.0, 121.0]
    seeds = [fake_exp(tmp_path / f"mlp_l_seed{s}", si[s], sd[s], s, times[s]) for s in range(3)]
    row = comparison_row(seeds)
    assert row["n_seeds"] == 3 and row["si_sdri_seeds"] == si and row["model"] == "MLP (L)"
    for key, values in (("si_sdri", si), ("sdri", sd)):
        mean, half = student_ci(values)
        assert row[key] == pytest.approx(mean) and row[f"{key}_ci"] == pytest.approx(half)
    assert row["train_seconds"] == pytest.approx(117.0) and not row["resumed"]
    one = comparison_row(seeds[0])
    assert one["si_sdri"] == 5.1 and one["si_sdri_ci"] is None and one["n_seeds"] == 1


def test_groups_keep_the_order_and_only_join_seeds_of_one_folder(tmp_path):
    order = ["x/a_seed1", "x/b", "y/a_seed0", "x/a_seed0", "x/b_seed", "x/b_seed2"]
    assert group_seeds(order) == [("a", ["x/a_seed1", "x/a_seed0"]), ("b", ["x/b"]), ("a", ["y/a_seed0"]),
                                  ("b_seed", ["x/b_seed"]), ("b", ["x/b_seed2"])]
    with pytest.raises(ValueError, match="listed twice"):
        group_seeds(["x/a_seed0", "x/a_seed0"])


def test_seeds_trained_with_other_hparams_are_refused(tmp_path):
    other = {**HPARAMS, "model": {"n_outputs": 4}}
    seeds = [fake_exp(tmp_path / "p_seed0", 1.0, 1.0, 0), fake_exp(tmp_path / "p_seed1", 2.0, 2.0, 1, hparams=other)]
    with pytest.raises(ValueError, match=r"other hparams than .*p_seed0.* \(model.n_outputs\)"):
        comparison_row(seeds)
    # a default that a later version added (a key in one run only) is not a difference
    later = {**HPARAMS, "training": {**HPARAMS["training"], "precision": "32"}}
    assert comparison_row([seeds[0], fake_exp(tmp_path / "p_seed2", 3.0, 3.0, 2, hparams=later)])["n_seeds"] == 2


def test_markdown_rows_and_caption(tmp_path):
    baseline = {**HPARAMS, "paper": {"name": "Baseline", "si_sdri": 16.3, "sdri": 16.5}}
    single = fake_exp(tmp_path / "baseline", 4.0, 4.5, hparams=baseline)  # no seeds, no timing: today's rows
    seeds = [fake_exp(tmp_path / f"mlp_l_seed{s}", 5.0 + s, 6.0 + s, s, 10.0 * (s + 1), resumed=s == 2)
             for s in range(3)]
    table = comparison_markdown([single, *seeds])
    lines = table.splitlines()
    assert lines[2] == "| Baseline | 1 | 4.00 | 4.50 | 4.00 | 0.091 | 0.73 | - | 16.3 / 16.5 |"
    half = student_ci([5.0, 6.0, 7.0])[1]
    assert lines[3] == f"| MLP (L) | 3 | 6.00 ± {half:.2f} | 7.00 ± {half:.2f} | 5.00, 6.00, 7.00 | 0.091 | 0.73 | 20* | 18.0 / 18.1 |"
    assert len(lines) == 6 and "Student t, n - 1 dof" in lines[5] and "*: a training resumed" in lines[5]


def test_compare_step_names_a_missing_evaluation(tmp_path):
    out = subprocess.run([sys.executable, "-m", "asteroid_deepmask.recipe", "compare", "--exps", str(tmp_path / "none")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "evaluate" in out.stderr and "Traceback" not in out.stderr


def test_overseparated_experiments_get_a_table_of_their_selections(tmp_path):
    best, loudest = [4.0, 6.0, 5.0], [1.0, 2.0, 0.0]
    seeds = [fake_exp(tmp_path / f"mixit_seed{s}", -9.0, -3.0, s, selections={
        "si_sdri_best_assignment": best[s], "si_sdri_loudest": loudest[s], "dnsmosi_loudest": 0.1}) for s in range(3)]
    plain = fake_exp(tmp_path / "pit", 7.0, 7.5, hparams={**HPARAMS, "paper": {"name": "PIT"}})
    row = comparison_row(seeds)
    assert row["selections"]["si_sdri_best_assignment"] == pytest.approx(student_ci(best))
    table = comparison_markdown([*seeds, plain])
    header = "| Model | Seeds | si_sdri (best_assignment) | si_sdri (loudest) | dnsmosi (loudest) |"
    assert header in table
    cells = [f"{mean:.2f} ± {half:.2f}" for mean, half in (student_ci(best), student_ci(loudest))]
    assert f"| MLP (L) | 3 | {cells[0]} | {cells[1]} | 0.10 ± 0.00 |" in table
    assert "`loudest`: its C most energetic outputs" in table
    assert "best_assignment" not in comparison_markdown([plain])


def test_rows_of_one_name_from_two_parents_say_their_parent(tmp_path):
    plain = {**HPARAMS, "paper": {}}
    runs = [fake_exp(tmp_path / parent / f"unsupervised_seed{s}", 1.0 + s, 1.0, s, hparams=plain)
            for parent in ("share0.1", "share0") for s in range(2)]
    rows = [line.split(" | ")[0] for line in comparison_markdown(runs).splitlines()[2:4]]
    assert rows == ["| share0.1/unsupervised", "| share0/unsupervised"]


def counting_record(folder, rates, default=-20.0):
    """A counting record as ``egs/mixit/count_mini.py --exp`` writes it: ``rates`` at the default threshold,
    and other rates at another threshold (which the table must not read)."""
    rows = [{"voices": v, "threshold_db": default, "mixtures": 10, "counted_right": r, "counts": {}}
            for v, r in rates.items()]
    rows += [{"voices": v, "threshold_db": default + 5, "mixtures": 10, "counted_right": 0.0, "counts": {}}
             for v in rates]
    (folder / "counting.json").write_text(json.dumps({"name": "count_mini", "default_threshold_db": default,
                                                      "rows": rows}))


def test_counting_records_make_a_third_table_and_every_row_a_result_record(tmp_path):
    from asteroid_deepmask.recipe.comparison import comparison_records

    ones, twos = [0.5, 0.7, 0.6], [0.2, 0.4, 0.3]
    seeds = []
    for s in range(3):
        seeds.append(fake_exp(tmp_path / f"mixit_seed{s}", -9.0, -3.0, s, selections={
            "si_sdri_best_assignment": 5.0 + s, "si_sdri_active": 3.0 + s}))
        counting_record(tmp_path / f"mixit_seed{s}", {1: ones[s], 2: twos[s]})
    plain = fake_exp(tmp_path / "pit", 7.0, 7.5, hparams={**HPARAMS, "paper": {"name": "PIT"}})
    row = comparison_row(seeds)
    assert row["counting"][1] == pytest.approx(student_ci(ones))
    assert row["counting"][2] == pytest.approx(student_ci(twos))
    table = comparison_markdown([*seeds, plain])
    (m1, h1), (m2, h2) = student_ci(ones), student_ci(twos)
    assert "| Model | Seeds | 1 voice | 2 voices |" in table
    assert f"| MLP (L) | 3 | {100 * m1:.0f} ± {100 * h1:.0f} % | {100 * m2:.0f} ± {100 * h2:.0f} % |" in table
    assert "| PIT | 1 | " not in table.split("1 voice")[1]  # no counting record: no counting row
    records = comparison_records([*seeds, plain])
    assert [r["model"] for r in records] == ["MLP (L)", "PIT"]
    assert records[0]["si_sdri_active"] == pytest.approx(4.0)
    assert records[0]["counted_right_2_voices"] == pytest.approx(0.3)
    assert records[0]["counted_right_1_voices_ci"] == pytest.approx(h1) and "counted_right_1_voices" not in records[1]
    out = subprocess.run([sys.executable, "-m", "asteroid_deepmask.recipe", "compare", "--exps", *seeds, plain,
                          "--record", str(tmp_path / "comparison.json")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads((tmp_path / "comparison.json").read_text())
    assert record["name"] == "compare" and record["rows"][0]["si_sdri_active"] == pytest.approx(4.0)
