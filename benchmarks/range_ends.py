"""Values past the training range, measured on two tables that overshoot it and a control.

    python -m benchmarks.range_ends [--tables accounts telecom labs] [--seeds 1 2 42]
                                    [--project PATH] [--work DIR]

The figures of docs/column-kinds.md, "Values past the training range". The tables are made
from seeded generators: bank accounts opened within 2005-2023, each some years after the
holder's employment began (the date the opening is learned against, see "Order rules"),
and telecom contracts with a monthly fee, a data volume that is zero for 38 % of them, and
a cancellation request dated up to a snapshot (the tables of trials 35D and 35C, cut down
to the columns that matter here), and the lab table of ``benchmarks.missing_together``
(where no value piled on an end: a control).
Each run is a whole default ``kedro run`` of the project at ``--project`` (default: this
checkout) in a copy under ``--work``, as in ``benchmarks.order_rules``; "before" is
``--project`` pointing at a checkout of 12ca49d, the last commit that set every value past
the range to its end.

Printed per table, mean and standard deviation over the seeds, over its ``continuous``,
``integer`` and ``datetime`` columns: the largest and the mean excess share at a range end
(the share of the synthetic values on the training minimum or maximum, less the share of
the real minority training values on it; the larger of the two ends per column; ends that
more than 1 % of the training values hold, a zero share say, are left out); detection
accuracy and the PR AUC gain (``metrics.csv``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import missing_together, order_rules

KINDS = ("continuous", "integer", "datetime")
#: Ends held by a larger share of the training values are point masses, left out.
POINT_MASS = 0.01


def accounts(rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    """4,000 accounts (5.6 % defaults): opened within 2005-2023, 30 days to 10 years after
    the holder's employment began (missing for 25 %), income with a long tail."""
    n = 4000
    opened = pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 365 * 19, n), "D")
    employed = pd.Series(opened - pd.to_timedelta(rng.integers(30, 3650, n), "D"))
    jobless = rng.random(n) < 0.25
    income = np.round(np.exp(rng.normal(10.3, 0.6, n)), 2)
    balance = np.round(rng.normal(3000, 6000, n) + 0.1 * income, 2)
    logit = -2.8 - 1.2 * (np.log(income) - 10.3) - 0.00015 * balance + 1.0 * jobless
    return pd.DataFrame({
        "employed_since": employed.dt.strftime("%Y-%m-%d").where(~jobless),
        "income": income, "age": rng.integers(18, 85, n), "balance": balance,
        "products": rng.poisson(1.5, n) + 1, "opened": opened.strftime("%Y-%m-%d"),
        "default": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)}), "default"


def telecom(rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    """5,000 contracts (4.5 % churn) started 2015-2023: a monthly fee in cents (tariff,
    options, some discounts), a data volume of 0 for 38 % and a long tail otherwise, and a
    cancellation request between the start and the snapshot, 2024-06-30 (55 % of churners,
    7 % of the rest)."""
    n, snapshot = 5000, pd.Timestamp("2024-06-30")
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3287, n), "D")
    years = (snapshot - start).days.to_numpy() / 365.25
    fee = (rng.choice([9.99, 14.99, 19.99, 29.99, 39.99, 49.99], n, p=[.12, .2, .27, .2, .14, .07])
           + rng.choice([0, 2.5, 4.99, 7.95], n, p=[.55, .2, .15, .1])
           + np.where(rng.random(n) < 0.15, -rng.integers(1, 500, n) / 100, 0))
    fee = np.round(np.maximum(fee, 4.99), 2)
    zero = rng.random(n) < 0.38
    volume = np.where(zero, 0.0, np.round(rng.lognormal(1.4, 1.1, n) * fee / 25, 1))
    logit = -3.25 + 0.025 * (fee - 25) - 0.18 * (years - 4) + 0.35 * zero
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    asked = rng.random(n) < np.where(churn, 0.55, 0.07)
    request = start + pd.to_timedelta((rng.random(n) * (snapshot - start).days.to_numpy())
                                      .astype(int) + 1, "D")
    return pd.DataFrame({
        "start": start.strftime("%d.%m.%Y"), "fee": fee, "volume_gb": volume,
        "request": pd.Series(request.strftime("%d.%m.%Y")).where(asked),
        "churn": churn.astype(int)}), "churn"


def labs(rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    """The lab table of ``benchmarks.missing_together``."""
    return missing_together.labs(rng)[:2]


TABLES = {"accounts": accounts, "telecom": telecom, "labs": labs}


def table(name: str) -> tuple[pd.DataFrame, str]:
    """Table ``name`` and its label column."""
    return TABLES[name](np.random.default_rng(0))


def excess_at_ends(rows: pd.DataFrame, train: pd.DataFrame, schema: dict) -> list[float]:
    """Per column of :data:`KINDS`, the larger excess share of the synthetic ``rows`` over
    the real minority ``train`` rows on the training minimum and maximum, among present
    values, over the ends that at most :data:`POINT_MASS` of the training values hold (a
    zero share, a top code: not what is measured here); 0 where no end is such."""
    minority = train[schema["target"]].astype(str) == str(schema["minority_classes"][0])
    out = []
    for name, spec in schema["columns"].items():
        if spec["kind"] not in KINDS or name not in rows:
            continue
        every, real, synth = (_numbers(t[name], spec) for t in (train, train[minority], rows))
        ends = [end for end in (every.min(), every.max()) if (every == end).mean() <= POINT_MASS]
        out.append(max([float((synth == end).mean() - (real == end).mean()) for end in ends],
                       default=0.0))
    return out


def _numbers(values: pd.Series, spec: dict) -> pd.Series:
    """A column's present values as numbers, dates as nanoseconds."""
    if spec["kind"] == "datetime":
        return pd.to_datetime(values, format=spec.get("format")).dropna().astype("int64")
    return values.dropna().astype(float)


def figures_of(project: Path, work: Path, name: str, seed: int) -> dict[str, float]:
    """One seed's figures of table ``name`` (module doc)."""
    df, target = table(name)
    rows, metrics = order_rules.kedro_run(project, work, name, df, target, seed)
    data = work / f"{name}-{seed}" / "data"
    train = pd.read_parquet(data / "05_model_input/train_rows.parquet")
    schema = json.loads((data / "02_intermediate/schema.json").read_text())
    excess = excess_at_ends(rows, train, schema)
    return {"largest": max(excess), "mean": float(np.mean(excess)),
            "detection": float(metrics["detection.accuracy"]),
            "gain": float(metrics["utility.pr_auc_gain"])}


def main(argv: list[str] | None = None) -> None:
    order_rules.whole_run_main(argv, __doc__, list(TABLES),
                               "largest excess at an end | mean excess | detection | gain",
                               figures_of)


if __name__ == "__main__":
    main()
