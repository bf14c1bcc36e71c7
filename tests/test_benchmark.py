"""The BRFSS benchmark harness, small: a row sample, 1 epoch, 1 seed, two families + SMOTE
(+ CTGAN where the ``bench`` extra is installed), both settings, in-process.

The full run is ``python -m benchmarks.brfss`` (see benchmarks/README.md).
"""

from __future__ import annotations

import importlib.util
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
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    from benchmarks.brfss import main

    if not BRFSS.exists():
        pytest.fail(f"{BRFSS} is missing: the shared data must sit beside the checkout.")
    out = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    written = main([
        "--data", str(BRFSS), "--rows", "3000", "--epochs", "1", "--seeds", "1",
        "--trees", "20", "--scarce-rows", "100", "--speed-rows", "2000",
        "--ctgan-speed-rows", "1000", "--isolation", "none", "--threads", "1",
        "--out", str(out),
        "--families", *METHODS,
    ])
    assert written == out
    return out.read_text()


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


def test_one_table_per_setting_with_a_row_per_method(report: str) -> None:
    tables = _tables(report)
    assert len(tables) == 2
    assert any(t.startswith("Setting (a)") for t in tables)
    assert any(t.startswith("Setting (b)") for t in tables)
    for rows in tables.values():
        labels = [row[0] for row in rows]
        assert labels[: len(METHODS)] == [LABELS[m] for m in METHODS]
        assert labels[-1].startswith("real ")


def test_every_method_has_finite_quality_utility_and_speed(report: str) -> None:
    for rows in _tables(report).values():
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
    for rows in _tables(report).values():
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
