"""The tables benchmark, small: the built-in table and BRFSS 1,000 on a 15,000-row sample,
one epoch, two training seeds, ``cvae`` + the reference arms (+ SDV's TVAE where the
``bench`` extra is installed), in-process. TabularARGN is left out: one training costs
~40 s of its own overhead. The full run is ``python -m benchmarks.tables``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import BRFSS

HAS_SDV = importlib.util.find_spec("sdv") is not None
METHODS = ["reference", "cvae", *(["tvae"] if HAS_SDV else [])]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], str, list[dict]]:
    """The command line, the markdown and the records of one small run."""
    from benchmarks.tables import main

    if not BRFSS.exists():
        pytest.fail(f"{BRFSS} is missing: the shared data must sit beside the checkout.")
    tmp = tmp_path_factory.mktemp("tables")
    records, out = tmp / "cells.jsonl", tmp / "benchmarks.md"
    argv = ["--tables", "demo", "brfss-1000", "--methods", *METHODS, "--rows", "15000",
            "--train-seeds", "2", "--epochs", "1", "--min-steps", "1", "--trees", "20",
            "--n-boot", "50", "--threads", "1", "--speed-rows", "2000",
            "--peer-speed-rows", "200", "--isolation", "none",
            "--records", str(records), "--out", str(out)]
    assert main(argv) == out
    cells = [json.loads(line) for line in records.read_text().splitlines()]
    return argv, out.read_text(), cells


def test_every_cell_runs_every_training_seed_and_arm(run):
    _, _, cells = run
    assert [(c["table"], c["method"]) for c in cells] == [
        (t, m) for t in ("demo", "brfss-1000") for m in METHODS]
    for cell in cells:
        if cell["method"] == "reference":
            arms = {a["method"] for a in cell["arms"]}
            assert {"class_weights", "random_oversampling", "smote"} <= arms
            assert ("real" in arms) == (cell["table"] == "brfss-1000")  # the cut's ceiling
            continue
        assert [s["train_seed"] for s in cell["seeds"]] == [0, 1]
        assert {a["k"] for a in cell["arms"]} == set(cell["ks"])
        assert all(a["pr_auc_gain_low"] <= a["pr_auc_gain"] <= a["pr_auc_gain_high"]
                   for a in cell["arms"])
        assert cell["peak_mb"] > 0 and cell["speed"]["rows_per_s"] > 0


def test_report_states_best_family_targets_and_tables(run):
    _, report, _ = run
    assert "Best: **cvae**" in report
    assert "## Targets: cvae" in report
    for line in ("detection accuracy <= 0.65", "BRFSS 1,000: PR AUC gain", "peak memory"):
        verdict = next(row for row in report.splitlines() if line in row).split(" | ")[1]
        assert verdict in ("met", "missed")
    assert "| SMOTE |" in report and "| held-back real rows |" in report
    if HAS_SDV:
        assert "| tvae |" in report


def test_finished_cells_are_not_run_again(run):
    from benchmarks.tables import main

    argv, _, cells = run
    records = Path(argv[argv.index("--records") + 1])
    before = records.read_text()
    main(argv)
    assert records.read_text() == before and len(cells) == 2 * len(METHODS)


def test_generator_seed_s_supplies_the_rows_of_utility_seed_s():
    from benchmarks._table_worker import PoolRows

    pools = {0: pd.DataFrame({"x": range(0, 10)}), 1: pd.DataFrame({"x": range(100, 110)})}
    rows = PoolRows(pools)(pd.DataFrame(), None, 5, 1)
    assert len(rows) == 5 and rows["x"].min() >= 100


def test_small_training_sets_get_more_epochs_up_to_the_cap():
    from benchmarks._table_worker import CellSpec

    spec = CellSpec("demo", "cvae", epochs=5, min_steps=600, max_epochs=300)
    assert spec.epochs_for(200_000) == 5  # 400 batches an epoch: the epochs rule
    assert spec.epochs_for(20_000) == 15  # 40 batches: 600 steps
    assert spec.epochs_for(80) == 300  # one batch an epoch: the cap


def test_a_peer_that_cannot_be_imported_is_named_with_its_fix():
    from benchmarks._peers import peer_importable

    if importlib.util.find_spec("mostlyai") is not None:
        pytest.skip("mostlyai-engine is installed in this environment")
    assert "mostlyai.engine is not importable" in peer_importable("argn")
    assert "pip install mostlyai-engine" in peer_importable("argn")


def test_epochs_auto_trains_our_family_on_the_pipelines_step_budget():
    """``--epochs auto``: the step budget of ``training.epochs: auto`` (at least BUDGET_MIN
    gradient steps, 10 checks), with ``--patience`` passed on; not for the peers."""
    from benchmarks._table_worker import CellSpec, run_cell
    from benchmarks.tables import parse_args
    from synthbalance.core.config import AUTO_CHECKS, BUDGET_MIN

    spec = CellSpec("demo", "cvae", train_seeds=(0,), epochs="auto", patience=2, rows=3000,
                    trees=20, n_boot=50, threads=1, speed_rows=500, extra_ks=False)
    seed = run_cell(spec)["seeds"][0]
    steps_per_epoch = max(1, seed["epoch_rows"] // 500)
    assert seed["epochs"] * steps_per_epoch >= BUDGET_MIN  # not CellSpec's 5 epochs
    assert seed["check_every"] == max(1, round(seed["epochs"] / AUTO_CHECKS))
    assert seed["config"]["patience"] == 2 and seed["epochs_run"] <= seed["epochs"]
    with pytest.raises(SystemExit):
        parse_args(["--epochs", "auto", "--methods", "cvae", "ctgan"])
    with pytest.raises(SystemExit):
        parse_args(["--epochs", "0"])
    assert parse_args(["--epochs", "auto", "--methods", "cvae"]).epochs == "auto"


def test_a_records_file_of_another_budget_is_refused(run, tmp_path):
    """Cells on record trained with another budget would share the markdown with this
    run's: the run stops before training, naming the cell and the fix."""
    from benchmarks.tables import main

    argv, _, _ = run
    records = argv[argv.index("--records") + 1]
    with pytest.raises(SystemExit, match=r"holds demo cvae trained with --epochs 1, no "
                                         r"--patience and --oversample 1; this run asks for "
                                         r"--epochs auto, --patience 3 and --oversample 1\. "
                                         r"Give this budget --records and --out files of its"):
        main(["--tables", "demo", "--methods", "reference", "cvae", "--epochs", "auto",
              "--patience", "3", "--records", records, "--out", str(tmp_path / "x.md")])
    with pytest.raises(SystemExit, match=r"this run asks for --epochs 1, no --patience and "
                                         r"--oversample auto"):
        main(["--tables", "demo", "--methods", "reference", "cvae", "--epochs", "1",
              "--oversample", "auto", "--records", records, "--out", str(tmp_path / "x.md")])


def test_oversample_importance_resamples_our_pools_as_the_pipeline_does():
    """``--oversample``: our families' pools are chosen among that many draws per row by
    importance resampling (auto: 5, none under DP); a peer's pool is its plain draws."""
    from benchmarks._data import prepare_setting
    from benchmarks._table_worker import CellSpec, draw_pool

    data = prepare_setting("demo", 3000)
    real = data.minority_rows(data.fit)
    calls = []

    def sample(n, seed):  # a stand-in generator: real rows drawn with replacement
        calls.append(n)
        return real.sample(n=n, replace=True, random_state=seed).reset_index(drop=True)

    plain = draw_pool(CellSpec("demo", "cvae"), data, sample, 50, 0)
    kept = draw_pool(CellSpec("demo", "cvae", oversample="auto"), data, sample, 50, 0)
    pd.testing.assert_frame_equal(plain, sample(50, 1))
    assert len(kept) == 50 and not kept.equals(plain)
    draw_pool(CellSpec("demo", "cvae", oversample="auto", epsilon=4.0), data, sample, 50, 0)
    draw_pool(CellSpec("demo", "tvae", oversample=3), data, sample, 50, 0)
    assert calls == [50, 250, 50, 50, 50]  # plain, auto, (the check), under DP, a peer
