"""Order rules between dates, measured on three tables with dates in order.

    python -m benchmarks.order_rules [--tables claims stays loans] [--seeds 1 2 42]
                                     [--project PATH] [--work DIR]

The figures of docs/column-kinds.md, "Order rules between dates". Each table is made here
from a seeded generator (a German claims export, hospital stays, a loan export; the tables
of three README-only trials). Each run is a whole default ``kedro run`` of the project at
``--project`` (default: this checkout), with ``seed`` set, in a copy of its ``conf/``,
``src/`` and ``pyproject.toml`` under ``--work`` (default: a temporary folder), so no run touches a
project's ``data/``. The "before" rows of the docs came from ``--project`` pointing at a
checkout of 44074b6, the last commit without order rules (``git worktree add DIR 44074b6``).

Printed per table, mean and standard deviation over the seeds: the share of synthetic rows
with two dates of a pair out of order; the Wasserstein distance between the synthetic and
the real minority rows' days between the dates, in standard deviations of the real ones;
the share of synthetic rows whose days lie within the real rows' range (these three are
means over the table's pairs); detection accuracy and the PR AUC gain (``metrics.csv``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

ROOT = Path(__file__).resolve().parents[1]


def claims(rng: np.random.Generator) -> tuple[pd.DataFrame, dict, list, str]:
    """7,000 claims: contract start 10 to 900 days before the claim (capped at 2024)."""
    n = 7000
    start = pd.to_datetime("2012-01-01") + pd.to_timedelta(rng.integers(0, 365 * 11, n), "D")
    claim = start + pd.to_timedelta(rng.integers(10, 900, n), unit="D")
    claim = claim.where(claim <= pd.Timestamp("2024-12-31"), pd.Timestamp("2024-12-31"))
    amount = np.round(np.exp(rng.normal(6.3, 1.3, n)) + 50, 2)
    police = rng.random(n) < 0.35
    previous = rng.choice(np.arange(4), n, p=[0.75, 0.15, 0.07, 0.03])
    days = (claim - start).days.to_numpy()
    logit = (-3.6 + 0.9 * (np.log(amount) > 8.0) + 0.45 * previous - 1.1 * police
             + 0.9 * (days < 90))
    fraud = rng.random(n) < 1 / (1 + np.exp(-logit))
    df = pd.DataFrame({"start": start.strftime("%d.%m.%Y"), "claim": claim.strftime("%d.%m.%Y"),
                       "amount": amount, "previous": previous,
                       "police": np.where(police, "ja", "nein"),
                       "fraud": np.where(fraud, "ja", "nein")})
    df.loc[rng.random(n) < 0.01, "start"] = None
    return df, {"target": "fraud"}, [("start", "claim")], "%d.%m.%Y"


def stays(rng: np.random.Generator) -> tuple[pd.DataFrame, dict, list, str]:
    """5,000 hospital stays: discharge 0 to 20 days after admission."""
    n = 5000
    age, los = rng.integers(18, 95, n), rng.integers(0, 21, n)
    admitted = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    ward = rng.choice([f"W{c}" for c in "ABCDEFGHIJKL"], n)
    crp = np.round(rng.lognormal(1.5, 1.3, n), 1)
    logit = (-3.6 + 0.02 * (age - 60) + 0.08 * (los - 10) + 0.15 * np.log1p(crp)
             + 0.8 * (ward == "WC"))
    discharged = admitted + pd.to_timedelta(los, unit="D")
    df = pd.DataFrame({"admission_date": admitted.strftime("%Y-%m-%d"),
                       "discharge_date": discharged.strftime("%Y-%m-%d"),
                       "age": age, "ward": ward, "crp": crp,
                       "readmitted": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)})
    return df, {"target": "readmitted"}, [("admission_date", "discharge_date")], "%Y-%m-%d"


def loans(rng: np.random.Generator) -> tuple[pd.DataFrame, dict, list, str]:
    """6,000 loans: approval 0 to 30 days after application, first payment 25 to 45 days
    after approval, both missing in 3 % of the rows."""
    n = 6000
    applied = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), "D")
    delay, first = rng.integers(0, 31, n), rng.integers(25, 46, n)
    approved = applied + pd.to_timedelta(delay, unit="D")
    income = np.round(np.exp(rng.normal(10.8, 0.45, n)), -2)
    amount = np.round(np.exp(rng.normal(9.3, 0.8, n)) + 500, 2)
    channel = rng.choice(["web", "branch", "broker"], n, p=[0.5, 0.3, 0.2])
    logit = (-4.25 + 1.6 * (delay <= 3) + 1.1 * (channel == "broker")
             + 2.2 * np.clip(amount / income - 0.4, 0, None))
    df = pd.DataFrame({"application_date": applied.strftime("%d/%m/%Y"),
                       "approval_date": approved.strftime("%d/%m/%Y"),
                       "first_payment_date": (approved + pd.to_timedelta(first, "D"))
                       .strftime("%d/%m/%Y"),
                       "amount": amount, "income": income, "channel": channel,
                       "defaulted": np.where(rng.random(n) < 1 / (1 + np.exp(-logit)),
                                             "yes", "no")})
    df.loc[rng.random(n) < 0.03, ["approval_date", "first_payment_date"]] = None
    pairs = [("application_date", "approval_date"), ("approval_date", "first_payment_date")]
    return df, {"target": "defaulted"}, pairs, "%d/%m/%Y"


TABLES = {"claims": claims, "stays": stays, "loans": loans}


def run(project: Path, work: Path, name: str, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """One default ``kedro run`` of ``project`` on table ``name`` in ``work``; its synthetic
    rows and ``metrics.csv``."""
    df, ingest, _, _ = TABLES[name](np.random.default_rng(0))
    return kedro_run(project, work, name, df, ingest["target"], seed)


def kedro_run(project: Path, work: Path, name: str, df: pd.DataFrame, target: str,
              seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """One default ``kedro run`` of ``project`` on ``df`` (saved as ``<name>.csv``, label
    ``target``) in ``work/<name>-<seed>``; its synthetic rows and ``metrics.csv``."""
    here = work / f"{name}-{seed}"
    shutil.rmtree(here, ignore_errors=True)
    shutil.copytree(project / "conf", here / "conf")
    shutil.copy(project / "pyproject.toml", here)
    shutil.copytree(project / "src", here / "src",  # the package, where kedro looks
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    df.to_csv(here / f"{name}.csv", index=False)
    env = here / "conf" / "bench_order"
    env.mkdir()
    (env / "parameters_ingest.yml").write_text(
        f"ingest:\n  source: {here / (name + '.csv')}\n  target: {target}\n"
        f"  dataset_name: {name}\n")
    environ = {**os.environ, "PYTHONPATH": str(here / "src"),
               "KEDRO_DISABLE_TELEMETRY": "true"}
    subprocess.run([sys.executable, "-m", "kedro", "run", "--env=bench_order",
                    f"--params=seed={seed}"], cwd=here, env=environ, check=True,
                   stdout=subprocess.DEVNULL)
    rows = pd.read_parquet(here / "data/07_model_output/synthetic_rows.parquet")
    metrics = pd.read_csv(here / "data/08_reporting/metrics.csv").set_index("metric")["value"]
    return rows, metrics


def figures(name: str, rows: pd.DataFrame, metrics: pd.Series) -> dict[str, float]:
    """The printed figures of one run (module doc)."""
    df, ingest, pairs, fmt = TABLES[name](np.random.default_rng(0))
    real = df[df[ingest["target"]].astype(str) == str(df[ingest["target"]].value_counts().idxmin())]
    out: dict[str, list[float]] = {"out_of_order": [], "distance": [], "in_range": []}
    for low, high in pairs:
        days = [(pd.to_datetime(t[high], format=fmt) - pd.to_datetime(t[low], format=fmt))
                .dt.days.dropna() for t in (real, rows)]
        out["out_of_order"].append(float((days[1] < 0).mean()))
        out["distance"].append(wasserstein_distance(days[1], days[0]) / days[0].std())
        out["in_range"].append(float(days[1].between(days[0].min(), days[0].max()).mean()))
    return {**{k: float(np.mean(v)) for k, v in out.items()},
            "detection": float(metrics["detection.accuracy"]),
            "gain": float(metrics["utility.pr_auc_gain"])}


def whole_run_main(argv: list[str] | None, doc: str, tables: Sequence[str], header: str,
                   figures_of: Callable[[Path, Path, str, int], dict[str, float]]) -> None:
    """The command line of a benchmark of whole runs: ``--tables`` (of ``tables``),
    ``--seeds``, ``--project`` and ``--work`` (module docs); prints the markdown ``header``
    (its column names) and one row per table, each figure's mean ± standard deviation
    over the seeds, ``figures_of(project, work, table, seed)`` giving one seed's."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(tables), choices=list(tables))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 42])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="whole-runs-"))
    print(f"| table | {header} |\n|---|" + "---|" * (header.count("|") + 1))
    for name in args.tables:
        table = pd.DataFrame([figures_of(args.project.resolve(), work, name, seed)
                              for seed in args.seeds])
        cells = [f"{table[c].mean():.4g}" + (f" ± {table[c].std():.2g}" if len(table) > 1
                                              else "") for c in table.columns]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def generated_main(argv: list[str] | None, doc: str,
                   tables: Mapping[str, Callable[[np.random.Generator], tuple]], header: str,
                   figures: Callable[[str, pd.DataFrame, pd.Series], dict[str, float]]) -> None:
    """:func:`whole_run_main` over ``tables`` made by seeded generators (each gives the
    table and its label column first, from ``np.random.default_rng(0)``), one
    :func:`kedro_run` per table and seed, ``figures(name, synthetic rows, metrics)`` giving
    its figures."""
    def figures_of(project: Path, work: Path, name: str, seed: int) -> dict[str, float]:
        df, target, *_ = tables[name](np.random.default_rng(0))
        return figures(name, *kedro_run(project, work, name, df, target, seed))

    whole_run_main(argv, doc, list(tables), header, figures_of)


def main(argv: list[str] | None = None) -> None:
    whole_run_main(argv, __doc__, list(TABLES),
                   "rows out of order | distance | within the real range | detection | gain",
                   lambda project, work, name, seed: figures(name, *run(project, work, name,
                                                                        seed)))


if __name__ == "__main__":
    main()
