"""The BRFSS benchmark harness, small: a row sample, 1 epoch, 1 seed, two families + SMOTE
(+ CTGAN where the ``bench`` extra is installed), both settings, in-process.

The full run is ``python -m benchmarks.brfss`` (see benchmarks/README.md).
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import pytest

from tests.conftest import BRFSS

HAS_CTGAN = importlib.util.find_spec("ctgan") is not None
FAMILIES = ["gan", "cvae"]
METHODS = [*FAMILIES, "smote", *(["ctgan"] if HAS_CTGAN else [])]
LABELS = {"gan": "gan (per-class)", "cvae": "cvae (conditional)",
          "smote": "SMOTE (imbalanced-learn)", "ctgan": "CTGAN (SDV, per class)"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """The markdown and the raw records (``--json``) of one small run."""
    from benchmarks.brfss import main

    if not BRFSS.exists():
        pytest.fail(f"{BRFSS} is missing: the shared data must sit beside the checkout.")
    out = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    raw = out.with_suffix(".json")
    written = main([
        "--data", str(BRFSS), "--rows", "3000", "--epochs", "1", "--seeds", "1",
        "--train-seeds", "2", "--trees", "20", "--scarce-rows", "100", "--speed-rows", "2000",
        "--ctgan-speed-rows", "1000", "--isolation", "none", "--threads", "1",
        "--out", str(out), "--json", str(raw),
        "--families", *METHODS,
    ])
    assert written == out
    return out.read_text(), json.loads(raw.read_text())


@pytest.fixture(scope="module")
def report(run: tuple[str, dict]) -> str:
    return run[0]


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Rows of each results table (header and rule dropped), by section title."""
    tables: dict[str, list[list[str]]] = {}
    for section in re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]:
        title, _, body = section.partition("\n")
        rows = [line.strip("|").split(" | ") for line in body.splitlines()
                if line.startswith("| ")]
        if rows:
            tables[title] = [[cell.strip() for cell in row] for row in rows[1:]]
    return tables


def _number(cell: str) -> float:
    """The first number of a cell like '+0.0123 ± 0.0040', '12.5 %' or '87,600 (2,000)'."""
    match = re.match(r"[+-]?[\d,]*\.?\d+", cell)
    assert match, f"no number in {cell!r}"
    return float(match.group().replace(",", ""))


def _setting_tables(markdown: str) -> dict[str, list[list[str]]]:
    return {t: rows for t, rows in _tables(markdown).items() if t.startswith("Setting")}


def test_one_table_per_setting_with_a_row_per_method(report: str) -> None:
    tables = _setting_tables(report)
    assert len(tables) == 2
    assert any(t.startswith("Setting (a)") for t in tables)
    assert any(t.startswith("Setting (b)") for t in tables)
    for rows in tables.values():
        labels = [row[0] for row in rows]
        assert labels[: len(METHODS)] == [LABELS[m] for m in METHODS]
        assert labels[-1].startswith("real ")


def test_every_method_has_finite_quality_utility_and_speed(report: str) -> None:
    for rows in _setting_tables(report).values():
        for row in rows[: len(METHODS)]:
            method = row[0]
            # W-mean, detection, both gains, both negative shares, rows/s, peak MB
            for cell in (*row[1:7], row[9], row[12]):
                assert math.isfinite(_number(cell)), (method, cell)
            if not method.startswith("SMOTE"):  # SMOTE has no epochs and no transformer
                assert _number(row[7]) > 0 and _number(row[11]) >= 0, method


def test_baseline_and_targets_are_reported(report: str) -> None:
    assert len(re.findall(r"\*\*Baseline PR AUC 0\.\d{3} ± 0\.\d{3}\*\*", report)) == 2
    targets = report.split("## Targets", 1)[1].split("\n## ", 1)[0]
    for phrase in ("Whole benchmark <= 30 min", "beats SMOTE and CTGAN",
                   "Detection accuracy", "faster per epoch than CTGAN",
                   "rows/s", "the first call of each process alone",
                   "TabularTransformer fit", "Peak memory"):
        assert phrase in targets
    assert re.search(r": (met|\*\*missed\*\*|not evaluated) \(", targets)
    assert "```\npython -m benchmarks.brfss --data " in report
    assert "- CPU: " in report and "synthbalance git sha " in report
    assert "training seed 0 (`--train-seed`)" in report


def test_ctgan_is_the_peer_with_its_discrete_columns(report: str) -> None:
    if not HAS_CTGAN:
        pytest.skip("ctgan is not importable (the 'bench' extra, pip install -e '.[bench]'); "
                    "the benchmark ran without its CTGAN row")
    assert "CTGAN: `discrete_columns` = 18 columns" in report
    assert "CTGAN's `fit` took" in report
    for rows in _setting_tables(report).values():
        ctgan = next(row for row in rows if row[0].startswith("CTGAN"))
        assert ctgan[8] == "1.00x"  # the speed ratios are against CTGAN itself


def test_worker_runs_in_a_fresh_process(tmp_path: Path) -> None:
    """The default isolation: one method in a subprocess, its peak memory its own."""
    from benchmarks._methods import RunSpec
    from benchmarks.brfss import _run_isolated

    spec = RunSpec(data=str(BRFSS), setting="scarce", method="smote", epochs=1, seeds=1,
                   trees=10, k_ratio=1.0, speed_rows=100, ctgan_speed_rows=100, threads=1,
                   rows=2000, scarce_rows=50)
    records = _run_isolated(spec, tmp_path)
    assert set(records) == {"smote", "real"}
    assert 0 < records["smote"]["peak_mb"] < 4096
    assert records["real"]["real_source"] == "held-back rows"


def test_best_family_and_ctgan_are_retrained_with_each_training_seed(run: tuple[str, dict]):
    report, raw = run
    best = re.search(r"Our best family: \*\*(\w+)\*\*", report).group(1)
    again = [best, *(["ctgan"] if HAS_CTGAN else [])]
    rows = _tables(report)["Training seeds"]
    for setting, by_method in raw["repeats"].items():
        assert list(by_method) == again
        for method, records in by_method.items():
            first, second = records
            assert first == raw["results"][setting][method]
            assert (first["train_seed"], second["train_seed"]) == (0, 1)
            # a different generator: different rows, so different quality
            assert second["wasserstein_mean"] != first["wasserstein_mean"], (setting, method)
            assert "rows_per_s" in first and "rows_per_s" not in second  # speed: seed 0 only
            ours = [r for r in rows if r[0] == setting and r[1] == LABELS[method]]
            assert [r[2] for r in ours] == ["0", "1", "**mean of 2**"]
            pr = [r["pr_auc_gain"] for r in records]
            mean = sum(pr) / 2
            spread = abs(pr[0] - pr[1]) / 2 ** 0.5
            assert ours[2][5] == f"{mean:+.4f} ± {spread:.4f}"
        assert any(r[0] == setting and r[1] == LABELS["smote"] for r in rows)
    targets = report.split("## Targets", 1)[1]
    who = best + (" and CTGAN" if HAS_CTGAN else "")
    assert f"mean over training seeds 0, 1 for {who}, each itself" in targets
    assert "with the first training seed alone: " in targets
    assert f"Detection accuracy of {best} <= 0.60 at every training seed" in targets


def _gains(pr: float, recall: float, **more: float) -> dict[str, float]:
    return {"pr_auc_gain": pr, "pr_auc_gain_std": 0.0, "recall_gain_at_base_precision": recall,
            "recall_gain_at_base_precision_std": 0.0, "wasserstein_mean": 0.1,
            "detection_accuracy": 0.55, "transformer_fit_s": 0.1, "transformer_rows": 10,
            **more}


def test_the_peer_target_compares_the_means_over_training_seeds() -> None:
    """Seed 0 alone loses to SMOTE on recall; the mean over seeds 0-2 beats both peers."""
    from benchmarks._report import targets

    results = {"all": {"cvae": _gains(0.010, -0.0020, train_seed=0),
                       "smote": _gains(0.001, -0.0015),
                       "ctgan": _gains(-0.020, -0.0030, train_seed=0)}}
    repeats = {"all": {
        "cvae": [results["all"]["cvae"], _gains(0.012, -0.0010, train_seed=1),
                 _gains(0.008, 0.0000, train_seed=2)],
        "ctgan": [results["all"]["ctgan"], _gains(-0.030, -0.0010, train_seed=1),
                  _gains(-0.010, -0.0005, train_seed=2)],
    }}
    once = {t.statement.split(" (")[0]: t for t in targets(results, "cvae", 60.0)}
    beats = "cvae beats SMOTE and CTGAN on PR AUC gain and on recall gain at the baseline's " \
            "precision, in every setting"
    assert once[beats].met is False
    found = {t.statement.split(" (")[0]: t for t in targets(results, "cvae", 60.0, repeats)}
    assert found[beats].met is True
    # cvae's recall mean -0.0010 beats SMOTE's -0.0015 and CTGAN's mean -0.0015
    assert "-0.0010 ± 0.0010 (training seeds: -0.0020 / -0.0010 / +0.0000)" in \
        found[beats].evidence
    assert "ctgan -0.0015 ± 0.0013" in found[beats].evidence
    assert found[beats].evidence.endswith("with the first training seed alone: missed")
    repeats["all"]["cvae"][2] = _gains(0.008, 0.0000, train_seed=2, detection_accuracy=0.61)
    found = {t.statement.split(" (")[0]: t for t in targets(results, "cvae", 60.0, repeats)}
    assert found["Detection accuracy of cvae <= 0.60 at every training seed"].met is False


def test_train_seeds_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.brfss import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--train-seeds", "0"])
    assert "--train-seeds 0: use 1 (no repeats) or more." in capsys.readouterr().err
