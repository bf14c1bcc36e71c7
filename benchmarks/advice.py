"""Does the advice help, on tables and cuts we did not tune for? Five settings, five seeds.

    python -m benchmarks.advice [--settings ...] [--seeds 5] [--epochs 20]
                                [--out docs/advice-benchmark.md]

Each cell (setting, seed) is one honest run of what ``kedro run`` does, with the seed as the
run's seed: a stratified 70/30 split, the scarce cut (if the setting has one), validation
rows (20 % of the training split), a cvae trained on the training rows but the validation
rows, its rows cleaned, then the utility experiment's arms and the advice
(:mod:`synthbalance.core.advice`). Cells are written as JSON lines as they finish
(``--records``), so an interrupted run resumes where it stopped. The report compares the
advised training set's test PR AUC with the baseline's and with the best arm in hindsight.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks._git import git_sha
from synthbalance.runtime import configure_openmp

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DAY_COUNTS = {c: {"kind": "count", "bounds": [0, 30]} for c in ("MentHlth", "PhysHlth")}


@dataclass(frozen=True)
class Setting:
    """A table and a cut: ``source`` is a file in ../shared/data or ``demo``."""

    name: str
    source: str
    target: str
    scarce: int | None = None
    hints: dict | None = None
    max_modes: int = 10


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("brfss-all", "diabetes_binary_health_indicators_BRFSS2015.csv.gz",
            "Diabetes_binary", None, DAY_COUNTS),
    Setting("brfss-1000", "diabetes_binary_health_indicators_BRFSS2015.csv.gz",
            "Diabetes_binary", 1000, DAY_COUNTS),
    Setting("brfss-100", "diabetes_binary_health_indicators_BRFSS2015.csv.gz",
            "Diabetes_binary", 100, DAY_COUNTS),
    # the fraud-GAN setting: 70/30 split, a training split that keeps 100 of its frauds
    Setting("creditcard-100", "creditcard.csv.gz", "Class", 100,
            {"Time": {"kind": "continuous", "bounds": [0, None]},
             "Amount": {"kind": "continuous", "bounds": [0, None]}}, max_modes=5),
    Setting("demo", "demo", "outcome", None,
            {c: {"kind": "count", "bounds": [0, 30]}
             for c in ("bad_mental_days", "bad_physical_days")}),
)}


@dataclass(frozen=True)
class Options:
    """What every cell shares."""

    epochs: int = 20
    trees: int = 300
    n_boot: int = 500
    threads: int = 2
    rows: int | None = None  # a seeded sample of each table (tests); None: all rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists every option with its default)."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.advice", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    p.add_argument("--seeds", type=int, default=5, help="cells per setting (default 5)")
    p.add_argument("--epochs", type=int, default=Options.epochs, help="cvae epochs")
    p.add_argument("--trees", type=int, default=Options.trees, help="xgboost trees")
    p.add_argument("--n-boot", type=int, default=Options.n_boot, help="bootstrap resamples")
    p.add_argument("--threads", type=int, default=Options.threads)
    p.add_argument("--rows", type=int, default=None, help="sample each table (tests)")
    p.add_argument("--records", default="benchmarks/advice_records.jsonl",
                   help="JSON lines of finished cells; cells found there are not run again")
    p.add_argument("--out", default="docs/advice-benchmark.md", help="markdown to write")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the missing cells, then write the report; returns its path."""
    configure_openmp(spin_count=300_000)  # as benchmarks.brfss: a machine of our own
    args = parse_args(argv)
    options = Options(args.epochs, args.trees, args.n_boot, args.threads, args.rows)
    records_path = ROOT / args.records
    done = _read_records(records_path)
    for name in args.settings:
        for seed in range(args.seeds):
            if (name, seed) in done:
                continue
            record = run_cell(SETTINGS[name], seed, options)
            with records_path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            done[name, seed] = record
            print(f"{name} seed {seed}: advice {record['advice']['arm']} "
                  f"(k {record['advice']['k']}), {record['seconds']:.0f} s", flush=True)
    from benchmarks._advice_report import render

    cells = [done[n, s] for n in args.settings for s in range(args.seeds)]
    out = ROOT / args.out
    out.write_text(render(cells, options, args))
    return out


def _read_records(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["setting"], r["seed"]): r for r in records}


def run_cell(setting: Setting, seed: int, options: Options) -> dict[str, Any]:
    """One run of the pipeline's stages on one setting with one seed, as a record."""
    from benchmarks._advice_cell import prepare, utility_and_advice

    start = time.perf_counter()
    data = prepare(setting, seed, options)
    result, advice = utility_and_advice(data, seed, options)
    return {
        "setting": setting.name, "seed": seed, "options": asdict(options),
        "rows": {part: len(df) for part, df in data.frames.items()},
        "minority_train_rows": data.n_minority, "headline_k": result.headline_k,
        "arms": result.arms.to_dict("records"),
        "baseline_pr_auc": float(result.summary()["pr_auc_baseline"]),
        "advice": advice.to_dict(), "seconds": time.perf_counter() - start,
        "generator_seconds": data.generator_seconds, "git_sha": git_sha(ROOT)[:7],
    }


if __name__ == "__main__":
    print(main())
