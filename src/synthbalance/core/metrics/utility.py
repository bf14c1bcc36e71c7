"""Utility, the recall gain: does adding k minority rows help a classifier on real data?

For every seed, an xgboost baseline is trained on the real training split; then the same
classifier on the training split plus k rows of each kind, for every k of a grid:

- ``synthetic``: a seeded subsample, without replacement, of the generator's rows (all of
  them when k exceeds their number; ``k_used`` says how many were added);
- ``smote``: k SMOTE rows from the training split (:func:`synthbalance.core.smote.smote_rows`,
  or any function with its signature passed as ``smote``);
- ``real``: k held-back real minority rows, the ceiling, where such rows exist.

Every model is scored on the untouched real test split: recall and precision at 0.5, PR AUC
(average precision), and ``recall_at_base_precision``: the highest recall on the model's PR
curve among thresholds whose precision is at least the baseline's precision at 0.5 of the
same seed, so a gain bought by lowering precision shows as none. A baseline that predicts
no positive at 0.5 made no false positive, so its reference precision is 1 (the PR-curve
convention); its reported ``precision`` is 0.

The rows added for one k are the first k of one seeded draw, so a larger k adds to a
smaller one's rows and the curve over k is not blurred by fresh draws. SMOTE's rows are
independent draws, so the first k of ``max(k_grid)`` are distributed as k fresh ones.

With several minority classes, each is the positive class in its own one-vs-rest model
(its own k rows added), and the metrics are averaged over the classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    precision_score,
    recall_score,
)
from tqdm.auto import tqdm
from xgboost import XGBClassifier

# a module import: core.smote imports metrics._features, so this one may run while it loads
from synthbalance.core import smote as smote_baseline
from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.metrics._features import (
    joint_levels,
    numeric_matrix,
)
from synthbalance.core.schema import Schema
from synthbalance.core.tables import label_mask, require_columns

#: The classifier every method is scored with; ``xgb_params`` override single keys.
DEFAULT_XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.1,
    "max_depth": 6,
    "tree_method": "hist",
}
METHODS: tuple[str, ...] = ("baseline", "synthetic", "smote", "real")
METRICS: tuple[str, ...] = ("recall", "precision", "pr_auc", "recall_at_base_precision")
#: The metrics whose gains (over the same seed's baseline) are headline numbers.
GAIN_METRICS: tuple[str, ...] = ("pr_auc", "recall", "recall_at_base_precision")
#: ``(train, schema, k, seed, minority_class) -> k rows``, as ``core.smote.smote_rows``.
RowMaker = Callable[[pd.DataFrame, Schema, int, int, Any], pd.DataFrame]
_PREFIX = {"synthetic": "", "smote": "smote_", "real": "real_"}
_GAIN_NAMES = {
    "pr_auc": "pr_auc_gain",
    "recall": "recall_gain",
    "recall_at_base_precision": "recall_gain_at_base_precision",
}


@dataclass(frozen=True)
class UtilityResult:
    """One row per (method, k, seed): ``method, k, k_used, seed`` and :data:`METRICS`.

    The baseline's rows have ``k = k_used = 0``.
    """

    table: pd.DataFrame
    headline_k: int

    def summary(self, headline_k: int | None = None) -> dict[str, float]:
        """Headline metrics at ``headline_k`` (default: the experiment's); see :func:`summarize`."""
        return summarize(self.table, self.headline_k if headline_k is None else headline_k)

    def curve(self) -> pd.DataFrame:
        """Mean and spread per method and k, for plotting; see :func:`gain_curve`."""
        return gain_curve(self.table)

    def metrics(self, prefix: str = "") -> dict[str, Any]:
        """Every figure to log, names prefixed: the :meth:`summary`, ``headline_k``, and
        per method the curves ``curve.<method>.pr_auc_gain`` and
        ``curve.<method>.recall_at_base_precision_gain`` as ``{k: mean gain}``."""
        out: dict[str, Any] = {prefix + k: v for k, v in self.summary().items()}
        out[prefix + "headline_k"] = float(self.headline_k)
        curve = self.curve()
        for column in ("pr_auc_gain_mean", "recall_at_base_precision_gain_mean"):
            for method, rows in curve[curve["method"] != "baseline"].groupby("method"):
                name = f"{prefix}curve.{method}.{column.removesuffix('_mean')}"
                out[name] = dict(zip(rows["k"].astype(int), rows[column], strict=True))
        return out


@dataclass(frozen=True)
class _Data:
    """Encoded inputs: the splits, and per minority class the rows each method adds."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: dict[Any, np.ndarray]
    y_test: dict[Any, np.ndarray]
    pools: dict[Any, dict[str, np.ndarray]]  # class -> method -> candidate rows
    levels: dict[str, tuple[Any, ...]]  # the discrete levels every matrix is coded over


# the eight inputs are the experiment's contract, positional as nodes and notebooks call it
def recall_gain_experiment(  # noqa: PLR0917
    train: pd.DataFrame,
    test: pd.DataFrame,
    schema: Schema,
    synthetic: pd.DataFrame | None,
    held_back: pd.DataFrame | None,
    k_grid: Sequence[int],
    seeds: Sequence[int],
    headline_k: int,
    *,
    smote: bool | RowMaker = True,
    xgb_params: Mapping[str, Any] | None = None,
    n_jobs: int = 2,
    progress: bool = False,
) -> UtilityResult:
    """Baseline vs. train + k synthetic / SMOTE / held-back real rows (module docstring).

    ``synthetic`` and ``held_back`` hold minority rows with the target column (which may be
    left out of ``synthetic`` when there is one minority class); either may be ``None``.
    ``smote``: ``True`` runs :func:`~synthbalance.core.smote.smote_rows`, ``False`` leaves
    the SMOTE rows out, and a function of the same signature ``(train, schema, k, seed,
    minority_class)`` makes them instead (to time or record the calls, say).
    """
    ks, seeds = _check_grid(k_grid, seeds, headline_k)
    data = _encode(train, test, schema, synthetic, held_back)
    params = {**DEFAULT_XGB_PARAMS, **(xgb_params or {}), "n_jobs": n_jobs}
    make_smote = smote if callable(smote) else smote_baseline.smote_rows if smote else None
    n_methods = len({m for pools in data.pools.values() for m in pools}) + int(bool(smote))
    n_fits = len(seeds) * len(data.pools) * (1 + len(ks) * n_methods)
    records: list[dict[str, Any]] = []
    with tqdm(total=n_fits, disable=not progress, desc="recall gain") as bar:
        for seed in seeds:
            per_class = []
            for index, (cls, pools) in enumerate(data.pools.items()):
                extra = dict(pools)
                if make_smote is not None:
                    rows = make_smote(train, schema, max(ks), seed, cls)
                    extra["smote"] = numeric_matrix(rows, schema, data.levels)
                per_class.append(
                    _class_runs(
                        data, cls, extra, ks, seed=seed, stream=index, params=params, bar=bar
                    )
                )
            records += _average_classes(per_class, seed)
    return UtilityResult(pd.DataFrame.from_records(records), headline_k)


def summarize(table: pd.DataFrame, headline_k: int) -> dict[str, float]:
    """Mean over seeds (and ``_std``, the sample spread) of the headline metrics.

    ``pr_auc_baseline``, ``recall_baseline``, ``precision_baseline``; then per method, at
    ``headline_k``, the gains over the same seed's baseline: ``pr_auc_gain``,
    ``recall_gain``, ``recall_gain_at_base_precision`` and ``k_used`` for synthetic rows,
    the same prefixed ``smote_`` and ``real_``. A method that did not run has no keys.
    """
    base = table[table["method"] == "baseline"].set_index("seed")
    out: dict[str, float] = {}
    for metric in ("pr_auc", "recall", "precision"):
        out[f"{metric}_baseline"] = float(base[metric].mean())
        out[f"{metric}_baseline_std"] = _std(base[metric])
    for method, prefix in _PREFIX.items():
        rows = table[(table["method"] == method) & (table["k"] == headline_k)].set_index("seed")
        if rows.empty:
            continue
        for metric, name in _GAIN_NAMES.items():
            gain = rows[metric] - base.loc[rows.index, metric]
            out[prefix + name] = float(gain.mean())
            out[f"{prefix}{name}_std"] = _std(gain)
        out[f"{prefix}k_used"] = float(rows["k_used"].min())
    return out


def gain_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Per method and k: ``<metric>_mean``/``_std`` and ``<metric>_gain_mean``/``_std``
    (gain over the same seed's baseline), the baseline at k = 0."""
    base = table[table["method"] == "baseline"].set_index("seed")
    with_gain = table.copy()
    for metric in GAIN_METRICS:
        reference = base.loc[with_gain["seed"], metric].to_numpy()
        with_gain[f"{metric}_gain"] = with_gain[metric].to_numpy() - reference
    values = [*METRICS, *(f"{m}_gain" for m in GAIN_METRICS)]
    grouped = with_gain.groupby(["method", "k"], sort=False)
    curve = grouped[values].agg(["mean", _std])
    curve.columns = [
        f"{name}_{'mean' if stat == 'mean' else 'std'}" for name, stat in curve.columns
    ]
    curve["k_used"] = grouped["k_used"].min()
    return curve.reset_index()


def _check_grid(
    k_grid: Sequence[int], seeds: Sequence[int], headline_k: int
) -> tuple[list[int], list[int]]:
    """The sorted distinct k and the distinct seeds, or a ConfigError naming the problem."""
    ks = sorted({int(k) for k in k_grid})
    where = "recall_gain_experiment"
    if not ks or ks[0] < 1:
        raise ConfigError(f"{where}: k_grid is {list(k_grid)}; give one or more k >= 1.")
    if headline_k not in ks:
        raise ConfigError(
            f"{where}: headline_k {headline_k} is not in k_grid {ks}; add it to the grid."
        )
    if not seeds or min(seeds) < 0:
        raise ConfigError(f"{where}: seeds is {list(seeds)}; give one or more seeds >= 0.")
    return ks, list(dict.fromkeys(int(seed) for seed in seeds))


def _encode(
    train: pd.DataFrame,
    test: pd.DataFrame,
    schema: Schema,
    synthetic: pd.DataFrame | None,
    held_back: pd.DataFrame | None,
) -> _Data:
    """Encode every frame once with shared levels; split the added rows by class."""
    frames = {"synthetic": synthetic, "real": held_back}
    frames = {m: df for m, df in frames.items() if df is not None and len(df) > 0}
    for what, df in {"training": train, "test": test, **frames}.items():
        require_columns(df, schema.names, f"{what} rows")
    levels = joint_levels(schema, train, test, *frames.values())
    y_train, y_test, pools = {}, {}, {}
    for cls in schema.minority_classes:
        y_train[cls] = _labels(train, schema, cls, "training")
        y_test[cls] = _labels(test, schema, cls, "test")
        pools[cls] = {
            method: numeric_matrix(df[_rows_of(df, schema, cls)], schema, levels)
            for method, df in frames.items()
        }
    return _Data(
        numeric_matrix(train, schema, levels),
        numeric_matrix(test, schema, levels),
        y_train,
        y_test,
        pools,
        levels,
    )


def _labels(df: pd.DataFrame, schema: Schema, cls: Any, what: str) -> np.ndarray:
    if schema.target not in df.columns:
        raise DataValidationError(f"The {what} rows lack the target column {schema.target!r}.")
    y = label_mask(df[schema.target], cls).astype(int)
    if y.min() == y.max():
        raise DataValidationError(
            f"The {what} rows hold {'only' if y.min() else 'no'} rows of class {cls!r}; the "
            "recall gain needs both that class and others in the training and test splits."
        )
    return y


def _rows_of(df: pd.DataFrame, schema: Schema, cls: Any) -> np.ndarray:
    """Rows of class ``cls``; all rows when the frame has no target and one class is minority."""
    if schema.target in df.columns:
        return label_mask(df[schema.target], cls)
    if len(schema.minority_classes) == 1:
        return np.ones(len(df), dtype=bool)
    raise DataValidationError(
        f"The added rows lack the target column {schema.target!r}, needed to tell the "
        f"minority classes {list(schema.minority_classes)} apart."
    )


def _class_runs(
    data: _Data,
    cls: Any,
    extra: dict[str, np.ndarray],
    ks: list[int],
    *,
    seed: int,
    stream: int,
    params: dict[str, Any],
    bar: Any,
) -> list[dict[str, Any]]:
    """Baseline and every (method, k) for one positive class and one seed.

    Each method draws its rows from its own stream of ``seed`` (and the class's index), so
    the held-back real rows drawn for a seed are the same whatever the synthetic rows are,
    and runs of different generators share their ``real`` ceiling.
    """
    y_train, y_test = data.y_train[cls], data.y_test[cls]
    proba = _fit_predict(data.x_train, y_train, data.x_test, params, seed)
    bar.update()
    base = _scores(y_test, proba, None)
    runs = [{"method": "baseline", "k": 0, "k_used": 0, **base}]
    for method in ("synthetic", "smote", "real"):
        pool = extra.get(method)
        if pool is None or len(pool) == 0:
            continue
        rng = np.random.default_rng([seed, stream, METHODS.index(method)])
        order = np.arange(len(pool)) if method == "smote" else rng.permutation(len(pool))
        for k in ks:
            added = pool[order[:k]]
            x = np.vstack([data.x_train, added])
            y = np.concatenate([y_train, np.ones(len(added), dtype=int)])
            proba = _fit_predict(x, y, data.x_test, params, seed)
            bar.update()
            scores = _scores(y_test, proba, base["reference_precision"])
            runs.append({"method": method, "k": k, "k_used": len(added), **scores})
    return runs


def _fit_predict(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, params: dict[str, Any], seed: int
) -> np.ndarray:
    model = XGBClassifier(**params, random_state=seed)
    model.fit(x, y)
    return model.predict_proba(x_test)[:, 1]


def _scores(y: np.ndarray, proba: np.ndarray, reference: float | None) -> dict[str, float]:
    """Test metrics; ``reference`` is the baseline's precision (``None``: this is it)."""
    pred = (proba >= 0.5).astype(int)
    own = float(precision_score(y, pred, zero_division=1.0))
    reference = own if reference is None else reference
    precision, recall, _ = precision_recall_curve(y, proba)
    return {
        "recall": float(recall_score(y, pred, zero_division=0.0)),
        "precision": float(precision_score(y, pred, zero_division=0.0)),
        "pr_auc": float(average_precision_score(y, proba)),
        # a tolerance so the baseline's own point, computed the same way, always qualifies
        "recall_at_base_precision": float(recall[precision >= reference - 1e-12].max()),
        "reference_precision": reference,
    }


def _average_classes(per_class: list[list[dict[str, Any]]], seed: int) -> list[dict[str, Any]]:
    """One record per (method, k): metrics averaged over the minority classes that ran it."""
    frame = pd.DataFrame.from_records([run for runs in per_class for run in runs])
    grouped = frame.groupby(["method", "k"], sort=False)
    out = grouped[list(METRICS)].mean()
    out["k_used"] = grouped["k_used"].min()
    out = out.reset_index().assign(seed=seed)
    return out[["method", "k", "k_used", "seed", *METRICS]].to_dict("records")


def _std(values: pd.Series) -> float:
    """Sample standard deviation; 0 for a single value."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0
