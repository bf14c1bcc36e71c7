"""Columns missing together, measured on two tables with fields missing as a block.

    python -m benchmarks.missing_together [--tables loans labs] [--seeds 1 2 42]
                                          [--project PATH] [--work DIR]

The figures of docs/column-kinds.md, "Columns missing together". The tables are made from
seeded generators: the loan export of ``benchmarks.order_rules`` (approval and first
payment dates missing together in 3 % of the rows) and a lab table (a panel of three
results missing together where the panel was not ordered, 45 % of the rows, more often
for healthy patients; a fourth result missing on its own). Each run is a whole default
``kedro run`` of the project at ``--project`` (default: this checkout) in a copy under
``--work``, as in ``benchmarks.order_rules``; "before" is ``--project`` pointing at a
checkout of dd62189, the last commit without the rule.

Printed per table, mean and standard deviation over the seeds: the share of synthetic
rows holding part of a group (some of its columns missing, not all); the group's missing
share among the synthetic rows and among the real minority rows; detection accuracy and the
PR AUC gain (``metrics.csv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks import order_rules


def loans(rng: np.random.Generator) -> tuple[pd.DataFrame, str, list[str]]:
    """The loan export of ``benchmarks.order_rules``."""
    df, ingest, _, _ = order_rules.loans(rng)
    return df, ingest["target"], ["approval_date", "first_payment_date"]


def labs(rng: np.random.Generator) -> tuple[pd.DataFrame, str, list[str]]:
    """4,000 patients: a panel of three results (missing together where the panel was not
    ordered: 45 % of the rows, fewer of the sick) and a ferritin result missing on its own
    (20 %)."""
    n = 4000
    age = rng.integers(20, 90, n)
    sick = rng.random(n) < 1 / (1 + np.exp(-(-3.2 + 0.035 * (age - 55))))
    crp = np.round(rng.lognormal(np.where(sick, 2.6, 1.2), 0.9), 1)
    leukocytes = np.round(rng.normal(np.where(sick, 11.5, 7.0), 2.2), 1)
    lactate = np.round(rng.lognormal(np.where(sick, 0.8, 0.3), 0.35), 2)
    ferritin = np.round(rng.lognormal(5.0, 0.7, n))
    df = pd.DataFrame({"age": age, "crp": crp, "leukocytes": leukocytes, "lactate": lactate,
                       "ferritin": ferritin, "ward": rng.choice(["A", "B", "C", "D"], n),
                       "sepsis": sick.astype(int)})
    panel = ["crp", "leukocytes", "lactate"]
    df.loc[rng.random(n) < np.where(sick, 0.15, 0.47), panel] = np.nan
    df.loc[rng.random(n) < 0.2, "ferritin"] = np.nan
    return df, "sepsis", panel


TABLES = {"loans": loans, "labs": labs}


def figures(name: str, rows: pd.DataFrame, metrics: pd.Series) -> dict[str, float]:
    """The printed figures of one run (module doc)."""
    df, target, group = TABLES[name](np.random.default_rng(0))
    minority = df[target].value_counts().idxmin()
    real = df[df[target] == minority]
    missing = rows[group].isna().to_numpy()
    return {"part_of_group": float((missing.any(axis=1) & ~missing.all(axis=1)).mean()),
            "group_missing": float(missing.all(axis=1).mean()),
            "real_group_missing": float(real[group].isna().all(axis=1).mean()),
            "detection": float(metrics["detection.accuracy"]),
            "gain": float(metrics["utility.pr_auc_gain"])}


def main(argv: list[str] | None = None) -> None:
    order_rules.generated_main(
        argv, __doc__, TABLES,
        "rows with part of a group | group missing | real minority | detection | gain",
        figures)


if __name__ == "__main__":
    main()
