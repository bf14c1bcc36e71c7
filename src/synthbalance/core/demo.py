"""The built-in demo table: a seeded, imbalanced health-screening table with every column kind.

It needs no download and is made to be hard. A latent risk drives the label (about 10 %
positive) and most columns, so the minority class differs from the majority in its joint
distribution and not only in its marginals; a generator that learns marginals alone is
caught by the detection test. Columns:

==================  ============  =================================================
column              kind          shape
==================  ============  =================================================
age_band            ordinal       1..13, older with risk
smoker, active      binary        correlated with risk (opposite signs)
high_bp             binary        depends on age and risk
income_band         ordinal       1..8, 4 % missing
glucose             continuous    three modes (normal / pre / diabetic), 3 % missing
annual_cost         continuous    log-normal, heavily right-skewed
bad_mental_days     count         0..30, zero-inflated, heaped at 5, 10, 15, 30
bad_physical_days   count         0..30, zero-inflated, heaped, tied to risk
region              categorical   five strings, 2 % missing
insurance           categorical   three strings, related to income
outcome             binary label  1 for the minority class
==================  ============  =================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEMO_TARGET = "outcome"
DEMO_DAY_COUNTS = ("bad_mental_days", "bad_physical_days")
_REGIONS = np.array(["north", "south", "east", "west", "central"], dtype=object)
_INSURANCE = np.array(["none", "public", "private"], dtype=object)


def make_demo_table(n_rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """Return the demo table; the same ``seed`` gives the same rows."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n_rows)
    age = np.clip(np.round(7 + 2.2 * risk + rng.normal(0, 2.4, n_rows)), 1, 13)
    smoker = rng.random(n_rows) < _sigmoid(-1.2 + 0.5 * risk)
    active = rng.random(n_rows) < _sigmoid(0.9 - 0.7 * risk)
    high_bp = rng.random(n_rows) < _sigmoid(-2.5 + 0.25 * age + 0.6 * risk)
    income = np.clip(np.round(5.2 - 0.8 * risk + rng.normal(0, 1.6, n_rows)), 1, 8)
    glucose = _glucose(rng, risk)
    cost = np.exp(7.5 + 0.35 * risk + 0.9 * rng.normal(size=n_rows)).round(2)
    mental = _day_counts(rng, _sigmoid(-1.1 + 0.3 * risk + 0.6 * smoker))
    physical = _day_counts(rng, _sigmoid(-1.3 + 0.8 * risk + 0.5 * high_bp - 0.6 * active))
    region = _REGIONS[rng.choice(5, n_rows, p=[0.24, 0.28, 0.16, 0.20, 0.12])]
    insurance = _INSURANCE[
        np.clip((income + rng.normal(0, 1.5, n_rows)) // 3, 0, 2).astype(int)
    ]
    logit = (
        -3.0 + 1.1 * risk + 0.9 * (glucose > 140) + 0.4 * high_bp * (age > 8)
        + 0.03 * physical - 0.3 * active + 0.35 * (region == "south")
    )
    outcome = (rng.random(n_rows) < _sigmoid(np.nan_to_num(logit, nan=-2.5))).astype(int)
    df = pd.DataFrame(
        {
            "age_band": age.astype(int),
            "smoker": smoker.astype(int),
            "active": active.astype(int),
            "high_bp": high_bp.astype(int),
            "income_band": income,
            "glucose": glucose.round(1),
            "annual_cost": cost,
            "bad_mental_days": mental,
            "bad_physical_days": physical,
            "region": region,
            "insurance": insurance,
            DEMO_TARGET: outcome,
        }
    )
    return _with_missing(df, rng)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _glucose(rng: np.random.Generator, risk: np.ndarray) -> np.ndarray:
    """Three physiological modes; the riskier the row, the likelier the higher modes."""
    n = risk.size
    p_pre = _sigmoid(-1.0 + 1.0 * risk)
    p_diab = _sigmoid(-3.2 + 1.4 * risk)
    u = rng.random(n)
    mode = np.where(u < p_diab, 2, np.where(u < p_diab + p_pre * (1 - p_diab), 1, 0))
    centres, widths = np.array([92.0, 118.0, 165.0]), np.array([7.0, 6.0, 22.0])
    return centres[mode] + widths[mode] * rng.normal(size=n)


def _day_counts(rng: np.random.Generator, p_any: np.ndarray) -> np.ndarray:
    """Zero-inflated 0..30 day counts, heaped the way survey answers are."""
    n = p_any.size
    days = np.minimum(rng.geometric(0.15, n), 30).astype(float)
    heaped = rng.random(n) < 0.45
    days = np.where(heaped, rng.choice([5, 10, 15, 30], n, p=[0.35, 0.25, 0.15, 0.25]), days)
    return np.where(rng.random(n) < p_any, days, 0.0).astype(int)


def _with_missing(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(df)
    return df.assign(
        glucose=df["glucose"].mask(rng.random(n) < 0.03),
        income_band=df["income_band"].mask(rng.random(n) < 0.04),
        region=df["region"].where(rng.random(n) >= 0.02, None),
    )
