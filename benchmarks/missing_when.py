"""Columns missing where another column says, measured on two tables with such rules.

    python -m benchmarks.missing_when [--tables policies contracts] [--seeds 1 2 42]
                                      [--project PATH] [--work DIR]

The figures of docs/column-kinds.md, "Columns missing together" (missing where another
column says). The tables are made from seeded generators: insurance policies whose last
claim date is missing exactly where there are no claims (trial 35B's table, cut down), and
contracts whose end date and end reason are missing exactly where the status is active.
Each run is a whole default ``kedro run`` of the project at ``--project`` (default: this
checkout) in a copy under ``--work``, as in ``benchmarks.order_rules``; "before" is
``--project`` pointing at a checkout of 12ca49d, the last commit without these rules.

Printed per table, mean and standard deviation over the seeds: the share of synthetic rows
that break the rule (the column missing where the other column does not say so, or
present where it does); the share with the rule's columns missing, synthetic and real
minority; detection accuracy and the PR AUC gain (``metrics.csv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks import order_rules


def policies(rng: np.random.Generator) -> tuple[pd.DataFrame, str, list[str], str, tuple]:
    """6,000 policies (5.2 % churned): claims (Poisson, more for cars), the last claim
    date between signup and the snapshot where there are claims, missing where none."""
    n, snapshot = 6000, pd.Timestamp("2024-06-30")
    product = rng.choice(["car", "home", "life", "health", "travel"], n,
                         p=[.35, .25, .15, .18, .07])
    premium = np.round(rng.lognormal(6.2, 0.45, n), 2)
    signup = snapshot - pd.to_timedelta(rng.integers(30, 14 * 365, n), unit="D")
    claims = np.minimum(rng.poisson(0.25 + 0.6 * (product == "car")
                                    + 0.3 * (product == "health"), n), 8)
    span = (snapshot - signup).days.to_numpy()
    last = signup + pd.to_timedelta((rng.uniform(0.05, 1.0, n) * span).astype(int), "D")
    months = span / 30.44
    logit = -2.4 + 0.45 * claims - 0.012 * months + 0.3 * (product == "travel")
    df = pd.DataFrame({
        "product": product, "premium": premium, "signup": signup.strftime("%Y-%m-%d"),
        "claims": claims, "last_claim": pd.Series(last.strftime("%Y-%m-%d")).where(claims > 0),
        "churned": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)})
    return df, "churned", ["last_claim"], "claims", (0,)


def contracts(rng: np.random.Generator) -> tuple[pd.DataFrame, str, list[str], str, tuple]:
    """5,000 contracts (4.8 % defaulted): the end date and end reason are missing
    exactly where the status is active (60 %)."""
    n = 5000
    status = rng.choice(["active", "ended", "cancelled"], n, p=[0.6, 0.3, 0.1])
    start = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), "D")
    end = start + pd.to_timedelta(rng.integers(30, 1500, n), "D")
    amount = np.round(rng.lognormal(8.5, 0.7, n), -1)
    logit = -3.0 + 0.6 * (status == "cancelled") + 0.5 * (np.log(amount) - 8.5)
    active = status == "active"
    df = pd.DataFrame({
        "status": status, "start": start.strftime("%Y-%m-%d"), "amount": amount,
        "end": pd.Series(end.strftime("%Y-%m-%d")).where(~active),
        "end_reason": pd.Series(rng.choice(["moved", "price", "service"], n)).where(~active),
        "default": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)})
    return df, "default", ["end", "end_reason"], "status", ("active",)


TABLES = {"policies": policies, "contracts": contracts}


def figures(name: str, rows: pd.DataFrame, metrics: pd.Series) -> dict[str, float]:
    """The printed figures of one run (module doc)."""
    df, target, columns, by, levels = TABLES[name](np.random.default_rng(0))
    real = df[df[target] == df[target].value_counts().idxmin()]
    missing = rows[columns].isna().to_numpy()
    said = rows[by].isin(levels).to_numpy()
    broken = (missing.any(axis=1) & ~said) | (~missing.all(axis=1) & said)
    return {"broken": float(broken.mean()), "missing": float(missing.all(axis=1).mean()),
            "real_missing": float(real[columns].isna().all(axis=1).mean()),
            "detection": float(metrics["detection.accuracy"]),
            "gain": float(metrics["utility.pr_auc_gain"])}


def main(argv: list[str] | None = None) -> None:
    order_rules.generated_main(
        argv, __doc__, TABLES,
        "rows breaking the rule | missing, synthetic | real minority | detection | gain",
        figures)


if __name__ == "__main__":
    main()
