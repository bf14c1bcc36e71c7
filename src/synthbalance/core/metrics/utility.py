"""Utility: does a change to the training set help a classifier on real data? Six arms.

The training split is cut once into a *fitting* part and a *validation* part (stratified;
the pipeline's ``validation_rows``, which no generator trains on either). For every seed,
an xgboost classifier is fitted on the fitting rows in each arm:

- ``baseline``: the fitting rows as they are;
- ``class_weights``: the same rows, positives weighted by ``scale_pos_weight`` = negatives
  / positives (of the fitting rows);
- ``random_oversampling``: plus k copies of minority rows (imbalanced-learn's
  ``RandomOverSampler``);
- ``smote``: plus k SMOTE / SMOTENC rows made from the fitting rows
  (:func:`synthbalance.core.smote.smote_rows`, or any function of its signature);
- ``synthetic``: plus k of the generator's rows (a seeded draw without replacement; all of
  them when k exceeds their number, ``k_used`` says how many);
- ``real``: plus k real minority rows held back by the scarce cut, the ceiling.

Every model is scored on the untouched test split: recall and precision at 0.5, PR AUC
(average precision), the Brier score, and recall at the baseline's precision. For the
last, thresholds are chosen on the validation rows, as a user can: the baseline's precision
at 0.5 on validation is the reference, each model takes the threshold of its highest
validation recall at that precision or more, and its test recall at that threshold is
reported (``recall_at_base_precision``). The older reading, every threshold chosen on the
test split itself, stays as ``recall_at_base_precision_test_threshold`` (fair between arms,
optimistic for all). Validation PR AUC is kept for the advice
(:mod:`synthbalance.core.advice`).

Gains are differences with the same seed's baseline; their mean and sample spread over
seeds are reported, and a paired bootstrap 95 % interval over rows
(:mod:`synthbalance.core.metrics.bootstrap`) of the mean gain: test rows for test gains,
validation rows for the validation PR AUC gain, whose intervals hold simultaneously for
every arm and k (Bonferroni), as the advice picks the best of them.

Validation rows stand for the population the classifier will meet (its *deployment
prevalence*). Precision, and so PR AUC and the threshold chosen for a precision, depend on
the share of positives; after a scarce cut the validation rows keep the cut's share (on
BRFSS with 1,000 of 24,742 minority rows kept: 0.7 % instead of 14 %), and gains read
there say little about gains at the real share. So validation rows are weighted
(:func:`~synthbalance.core.metrics.bootstrap.prevalence_weights`) to the share of each
minority class in the training split before the cut (the cut's rows are ``held_back``), or
to the share the user declares (``deployment_prevalence``); without either they count once.
Test rows always count once.

The rows added for one k are the first k of one seeded draw, so a larger k adds to a
smaller one's rows. With several minority classes, each is the positive class in its own
one-vs-rest model (its own k rows added), and the metrics are averaged over the classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
)
from tqdm.auto import tqdm
from xgboost import XGBClassifier

# a module import: core.smote imports metrics._features, so this one may run while it loads
from synthbalance.core import smote as smote_baseline
from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.metrics._features import joint_levels, numeric_matrix
from synthbalance.core.metrics.bootstrap import (
    Ranked,
    Resamples,
    paired_intervals,
    prevalence_weights,
    simultaneous_intervals,
)
from synthbalance.core.naming import class_namespace
from synthbalance.core.schema import Schema
from synthbalance.core.split import inner_split, validation_mask
from synthbalance.core.tables import label_mask, require_columns

#: The classifier every arm is scored with; ``xgb_params`` override single keys.
DEFAULT_XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.1,
    "max_depth": 6,
    "tree_method": "hist",
}
ARMS: tuple[str, ...] = (
    "baseline", "class_weights", "random_oversampling", "smote", "synthetic", "real",
)
#: Arms that add k minority rows to the fitting rows.
ADDING_ARMS: tuple[str, ...] = ("random_oversampling", "smote", "synthetic", "real")
METRICS: tuple[str, ...] = (
    "recall", "precision", "pr_auc", "brier", "recall_at_base_precision",
    "recall_at_base_precision_test_threshold", "validation_pr_auc",
)
#: Metrics whose gains (over the same seed's baseline) are reported, with intervals.
GAIN_METRICS: tuple[str, ...] = (
    "pr_auc", "recall", "recall_at_base_precision", "recall_at_base_precision_test_threshold",
    "validation_pr_auc",
)
#: MLflow name prefix of each arm's figures: synthetic rows keep the first wave's bare names.
PREFIX: dict[str, str] = {arm: "" if arm == "synthetic" else f"{arm}_" for arm in ARMS[1:]}
GAIN_NAMES: dict[str, str] = {
    "pr_auc": "pr_auc_gain",
    "recall": "recall_gain",
    "recall_at_base_precision": "recall_gain_at_base_precision",
    "recall_at_base_precision_test_threshold": "recall_gain_at_base_precision_test_threshold",
    "validation_pr_auc": "validation_pr_auc_gain",
}
#: Resamples of the bootstrap intervals.
N_BOOT = 500
#: ``(train, schema, k, seed, minority_class) -> k rows``, as ``core.smote.smote_rows``.
RowMaker = Callable[[pd.DataFrame, Schema, int, int, Any], pd.DataFrame]


@dataclass(frozen=True)
class UtilityResult:
    """What the experiment measured.

    ``table``: one row per (arm, k, seed), columns ``method`` (the arm), ``k``,
    ``k_used``, ``seed``, :data:`METRICS`, ``threshold`` (chosen on validation rows;
    infinite where no threshold reaches the baseline's precision) and
    ``reference_precision`` (the baseline's validation precision at 0.5 it was chosen
    for); the baseline and class weights at k = 0. With several minority classes, values
    are means over the classes.
    ``arms``: one row per (arm, k) but the baseline: the mean gain over seeds of every
    :data:`GAIN_METRICS` (``<gain>``), its spread (``<gain>_std``), its bootstrap interval
    (``<gain>_low``, ``<gain>_high``), the mean ``brier`` and ``k_used``.
    ``validation_prevalence``: per minority class, the share of positives the validation
    rows were read at (the deployment prevalence, or their own share without weights).
    ``test_prevalence``: per minority class, the test rows' share of positives, the PR AUC
    of a classifier that ranks at random.
    ``class_gains``: per minority class, per arm, the test PR AUC gain of that class's own
    one-vs-rest classifier over the same seed's baseline, mean over seeds, at the headline
    k (class weights at k = 0); ``table`` and ``arms`` average the classes.
    """

    table: pd.DataFrame
    arms: pd.DataFrame
    headline_k: int
    #: per minority class, the share of positives validation rows were read at
    validation_prevalence: Mapping[Any, float] = field(default_factory=dict)
    #: per minority class, the test rows' share of positives (the PR AUC of chance)
    test_prevalence: Mapping[Any, float] = field(default_factory=dict)
    #: per minority class, per arm, the test PR AUC gain at the headline k
    class_gains: Mapping[Any, Mapping[str, float]] = field(default_factory=dict)

    def summary(self, headline_k: int | None = None) -> dict[str, float]:
        """Headline figures at ``headline_k`` (default: the experiment's); see :func:`summarize`."""
        return summarize(self.table, self.arms, self.headline_k if headline_k is None
                         else headline_k)

    def curve(self) -> pd.DataFrame:
        """Mean and spread per arm and k, for plotting; see :func:`gain_curve`."""
        return gain_curve(self.table)

    def metrics(self, prefix: str = "") -> dict[str, Any]:
        """Every figure to log, names prefixed: the :meth:`summary`, ``headline_k``,
        ``validation_prevalence`` (the share of positives validation rows were read at,
        mean over minority classes), ``test_prevalence`` (the test rows' own, the PR AUC
        of ranking at random, mean over minority classes), per adding arm the curves
        ``curve.<arm>.pr_auc_gain`` and ``curve.<arm>.recall_at_base_precision_gain`` as
        ``{k: mean gain}``, and with several minority classes each one's ``class_gains``
        as ``class_<class>.<arm prefix>pr_auc_gain`` (:func:`~synthbalance.core.naming.
        class_namespace`)."""
        out: dict[str, Any] = {prefix + k: v for k, v in self.summary().items()}
        out[prefix + "headline_k"] = float(self.headline_k)
        for name, shares in (("validation_prevalence", self.validation_prevalence),
                             ("test_prevalence", self.test_prevalence)):
            if shares:
                out[prefix + name] = float(np.mean(list(shares.values())))
        curve = self.curve()
        for column in ("pr_auc_gain_mean", "recall_at_base_precision_gain_mean"):
            for method, rows in curve[curve["method"].isin(ADDING_ARMS)].groupby("method"):
                name = f"{prefix}curve.{method}.{column.removesuffix('_mean')}"
                out[name] = dict(zip(rows["k"].astype(int), rows[column], strict=True))
        if len(self.class_gains) > 1:
            for cls, gains in self.class_gains.items():
                out.update({f"{prefix}{class_namespace(cls)}.{PREFIX[arm]}pr_auc_gain": gain
                            for arm, gain in gains.items()})
        return out


@dataclass(frozen=True)
class _Data:
    """Encoded inputs: the fitting, validation and test rows, and per minority class its
    labels and the candidate rows of the arms that draw from a given pool."""

    schema: Schema
    fit_rows: pd.DataFrame
    x: dict[str, np.ndarray]  # "fit", "validation", "test" -> matrix
    y: dict[Any, dict[str, np.ndarray]]  # class -> part -> 0/1 labels
    pools: dict[Any, dict[str, np.ndarray]]  # class -> "synthetic" / "real" -> rows
    levels: dict[str, tuple[Any, ...]]  # the discrete levels every matrix is coded over
    weights: dict[Any, np.ndarray | None] = field(default_factory=dict)  # validation rows


@dataclass
class _Run:
    """One fitted model: its arm, k, seed and class, and its scores on both row sets."""

    method: str
    k: int
    k_used: int
    seed: int
    cls: Any
    validation: Ranked
    test: Ranked
    threshold: float = np.inf  # chosen on validation rows
    reference: float = np.nan  # the baseline's validation precision it was chosen for


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
    validation: pd.DataFrame | None = None,
    validation_size: float = 0.2,
    smote: bool | RowMaker = True,
    xgb_params: Mapping[str, Any] | None = None,
    n_jobs: int = 2,
    n_boot: int = N_BOOT,
    deployment_prevalence: float | Mapping[Any, float] | None = None,
    progress: bool = False,
) -> UtilityResult:
    """Every arm of the module docstring, at every k of ``k_grid``, for every seed.

    ``synthetic`` and ``held_back`` hold minority rows with the target column (which may be
    left out of ``synthetic`` when there is one minority class); either may be ``None``.
    ``validation``: rows of ``train`` (same index) that choose thresholds and are never
    fitted on; ``None`` carves ``validation_size`` of ``train`` (stratified, seed
    ``seeds[0]``). ``smote``: ``True`` runs :func:`~synthbalance.core.smote.smote_rows`,
    ``False`` leaves the arm out, a function of its signature makes the rows instead.
    ``n_boot``: bootstrap resamples of every interval. ``deployment_prevalence``: the
    share of the minority class (a mapping class -> share with several) that validation
    rows are weighted to; ``None``: the training split's share before the scarce cut when
    ``held_back`` rows exist, else no weights (module docstring).

    Raises:
        ConfigError: a bad ``k_grid``, ``seeds``, ``headline_k`` or
            ``deployment_prevalence``.
        DataValidationError: missing columns, a split without both classes, validation rows
            that are not rows of ``train``.
    """
    ks, seeds = _check_grid(k_grid, seeds, headline_k)
    if validation is None:
        fit, validation = inner_split(train, schema, validation_size, seeds[0])
    else:
        fit = train[~validation_mask(train, validation)]
    data, read_at = _at_prevalence(
        _encode(fit, validation, test, schema, synthetic, held_back),
        deployment_shares(train, held_back, schema, deployment_prevalence))
    params = {**DEFAULT_XGB_PARAMS, **(xgb_params or {}), "n_jobs": n_jobs}
    make_smote = smote if callable(smote) else smote_baseline.smote_rows if smote else None
    adding = 1 + (make_smote is not None) + len(next(iter(data.pools.values())))
    n_fits = len(seeds) * len(data.y) * (2 + len(ks) * adding)
    runs: list[_Run] = []
    # progress: a bar where standard error is a terminal (None), never in a file or CI log
    with tqdm(total=n_fits, disable=None if progress else True, desc="utility arms") as bar:
        for seed in seeds:
            for stream, cls in enumerate(data.y):
                runs += _class_runs(data, cls, ks, seed, stream, params, make_smote, bar.update)
    table = _table(runs)
    return UtilityResult(table, _arms(table, runs, n_boot, seeds[0]), headline_k, read_at,
                         _test_shares(data), _class_gains(runs, headline_k))


def _class_gains(runs: list[_Run], headline_k: int) -> dict[Any, dict[str, float]]:
    """:attr:`UtilityResult.class_gains` from the fitted runs."""
    base = {(r.seed, r.cls): average_precision_score(r.test.y, r.test.proba)
            for r in runs if r.method == "baseline"}
    gains: dict[Any, dict[str, list[float]]] = {}
    for run in runs:
        if run.method == "baseline" or run.k != (0 if run.method == "class_weights"
                                                 else headline_k):
            continue
        gain = average_precision_score(run.test.y, run.test.proba) - base[run.seed, run.cls]
        gains.setdefault(run.cls, {}).setdefault(run.method, []).append(float(gain))
    return {cls: {arm: float(np.mean(g)) for arm, g in arms.items()}
            for cls, arms in gains.items()}


def _test_shares(data: _Data) -> dict[Any, float]:
    """Per minority class, the test rows' share of positives (the PR AUC of chance)."""
    return {cls: float(parts["test"].mean()) for cls, parts in data.y.items()}


def deployment_shares(
    train: pd.DataFrame,
    held_back: pd.DataFrame | None,
    schema: Schema,
    declared: float | Mapping[Any, float] | None = None,
) -> dict[Any, float | None]:
    """Per minority class, the share of rows it has where the classifier is used, or
    ``None`` where validation rows are taken as they are (module docstring).

    ``declared`` (see :func:`declared_shares`) wins; otherwise the share in ``train`` plus
    ``held_back`` (the rows a scarce cut took from the training split), when there are any.

    Raises:
        ConfigError: as :func:`declared_shares`.
    """
    if declared is not None:
        return dict(declared_shares(schema, declared))
    if held_back is None or len(held_back) == 0:
        return {cls: None for cls in schema.minority_classes}
    labels = pd.concat([train[schema.target], held_back[schema.target]])
    return {cls: float(label_mask(labels, cls).mean()) for cls in schema.minority_classes}


def declared_shares(schema: Schema, declared: float | Mapping[Any, float]) -> dict[Any, float]:
    """The shares a user declared (``evaluation.deployment_prevalence``), per minority class
    of ``schema``: one share in (0, 1) for a table with one minority class, or a mapping
    class -> share (keys as the labels or as their text).

    Raises:
        ConfigError: a share outside (0, 1), a single share for several minority classes, a
            minority class the mapping does not name, or a key that is none.
    """
    classes = schema.minority_classes
    name = "evaluation.deployment_prevalence"
    if isinstance(declared, Mapping):
        named = {*classes, *map(str, classes)}
        unknown = [key for key in declared if key not in named and str(key) not in named]
        if unknown:
            raise ConfigError(f"{name} names {unknown}, which are not minority classes of "
                              f"the table (those are {list(classes)}); fix the keys in "
                              "conf/base/parameters_evaluation.yml or with --params.")
        missing = [c for c in classes if c not in declared and str(c) not in declared]
        if missing:
            raise ConfigError(f"{name} names no share for the minority classes {missing}; "
                              f"give one per class, e.g. {{{classes[0]!r}: 0.05}}, in "
                              "conf/base/parameters_evaluation.yml or with --params.")
        shares = {c: declared[c] if c in declared else declared[str(c)] for c in classes}
    elif len(classes) > 1:
        raise ConfigError(f"{name}={declared} is one share, but the table has the minority "
                          f"classes {list(classes)}; give one per class as a mapping.")
    else:
        shares = {classes[0]: declared}
    for cls, share in shares.items():
        if not 0 < float(share) < 1:
            raise ConfigError(f"{name} for class {cls!r} is {share}; a share of rows lies "
                              f"strictly between 0 and 1 (e.g. 0.05 for 5 %).")
    return {cls: float(share) for cls, share in shares.items()}


def summarize(table: pd.DataFrame, arms: pd.DataFrame, headline_k: int) -> dict[str, float]:
    """Mean over seeds (and ``_std``, the sample spread) of the headline figures.

    ``<metric>_baseline`` for recall, precision, PR AUC and the Brier score; then per arm
    (``class_weights`` at k = 0, the adding arms at ``headline_k``), prefixed by
    :data:`PREFIX` (none for synthetic rows): each gain of :data:`GAIN_NAMES` with
    ``_std``, ``_low`` and ``_high`` (its 95 % interval), ``brier`` and ``k_used``. An arm
    that did not run has no keys.
    """
    base = table[table["method"] == "baseline"]
    out: dict[str, float] = {}
    for metric in ("pr_auc", "recall", "precision", "brier"):
        out[f"{metric}_baseline"] = float(base[metric].mean())
        out[f"{metric}_baseline_std"] = _std(base[metric])
    for arm, prefix in PREFIX.items():
        k = 0 if arm == "class_weights" else headline_k
        row = arms[(arms["method"] == arm) & (arms["k"] == k)]
        if row.empty:
            continue
        row = row.iloc[0]
        for name in GAIN_NAMES.values():
            for suffix in ("", "_std", "_low", "_high"):
                out[prefix + name + suffix] = float(row[name + suffix])
        out[prefix + "brier"] = float(row["brier"])
        out[prefix + "k_used"] = float(row["k_used"])
    return out


def gain_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm and k: ``<metric>_mean``/``_std`` and ``<metric>_gain_mean``/``_std``
    (gain over the same seed's baseline), the baseline at k = 0."""
    base = table[table["method"] == "baseline"].set_index("seed")
    with_gain = table.copy()
    gains = [m for m in GAIN_METRICS if m in table.columns]
    for metric in gains:
        reference = base.loc[with_gain["seed"], metric].to_numpy()
        with_gain[f"{metric}_gain"] = with_gain[metric].to_numpy() - reference
    values = [m for m in METRICS if m in table.columns] + [f"{m}_gain" for m in gains]
    grouped = with_gain.groupby(["method", "k"], sort=False)
    curve = grouped[values].agg(["mean", _std])
    curve.columns = [
        f"{name}_{'mean' if stat == 'mean' else 'std'}" for name, stat in curve.columns
    ]
    curve["k_used"] = grouped["k_used"].min()
    return curve.reset_index()


# ------------------------------------------------------------------------ inputs


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
    fit: pd.DataFrame,
    validation: pd.DataFrame,
    test: pd.DataFrame,
    schema: Schema,
    synthetic: pd.DataFrame | None,
    held_back: pd.DataFrame | None,
) -> _Data:
    """Encode every frame once with shared levels; split the added rows by class."""
    frames = {"synthetic": synthetic, "real": held_back}
    frames = {m: df for m, df in frames.items() if df is not None and len(df) > 0}
    parts = {"fit": fit, "validation": validation, "test": test}
    for what, df in {**parts, **frames}.items():
        require_columns(df, schema.names, f"{what} rows")
    levels = joint_levels(schema, *parts.values(), *frames.values())
    y = {cls: {part: _labels(df, schema, cls, part) for part, df in parts.items()}
         for cls in schema.minority_classes}
    pools = {cls: {arm: numeric_matrix(df[_rows_of(df, schema, cls)], schema, levels)
                   for arm, df in frames.items()} for cls in schema.minority_classes}
    x = {part: numeric_matrix(df, schema, levels) for part, df in parts.items()}
    return _Data(schema, fit, x, y, pools, levels)


def _at_prevalence(
    data: _Data, shares: Mapping[Any, float | None]
) -> tuple[_Data, dict[Any, float]]:
    """``data`` with its validation rows weighted to ``shares`` (``None``: not weighted),
    and per class the share of positives they are then read at."""
    validation = {cls: data.y[cls]["validation"] for cls in shares}
    weights = {cls: None if share is None else prevalence_weights(validation[cls], share)
               for cls, share in shares.items()}
    read_at = {cls: float(validation[cls].mean()) if share is None else share
               for cls, share in shares.items()}
    return replace(data, weights=weights), read_at


def _labels(df: pd.DataFrame, schema: Schema, cls: Any, what: str) -> np.ndarray:
    if schema.target not in df.columns:
        raise DataValidationError(f"The {what} rows lack the target column {schema.target!r}.")
    y = label_mask(df[schema.target], cls).astype(int)
    if y.min() == y.max():
        raise DataValidationError(
            f"The {what} rows hold {'only' if y.min() else 'no'} rows of class {cls!r}; the "
            "utility experiment needs both that class and others in the fitting, validation "
            "and test rows. Keep more minority rows (preprocessing.scarce_minority_rows) or "
            "a larger preprocessing.validation_size."
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


# ---------------------------------------------------------------------- fitting


def _class_runs(
    data: _Data, cls: Any, ks: list[int], seed: int, stream: int,
    params: dict[str, Any], make_smote: RowMaker | None, tick: Callable[[], Any],
) -> list[_Run]:
    """Every arm at every k for one positive class and one seed, thresholds chosen."""
    y = data.y[cls]["fit"]
    fit = _fitter(data, cls, seed, params, tick)
    runs = [fit("baseline", 0, None), fit("class_weights", 0, None, (y == 0).sum() / y.sum())]
    for arm, pool in _pools(data, cls, max(ks), seed, stream, make_smote).items():
        runs += [fit(arm, k, pool[:k]) for k in ks]
    reference = _precision_at_half(runs[0].validation)
    for run in runs:
        run.threshold, run.reference = _threshold(run.validation, reference), reference
    return runs


def _fitter(
    data: _Data, cls: Any, seed: int, params: dict[str, Any], tick: Callable[[], Any]
) -> Callable[..., _Run]:
    """``fit(arm, k, added_rows, scale_pos_weight=1)`` -> the arm's :class:`_Run`."""
    y = data.y[cls]

    def fit(arm: str, k: int, added: np.ndarray | None, weight: float = 1.0) -> _Run:
        x, labels = data.x["fit"], y["fit"]
        if added is not None:
            x = np.vstack([x, added])
            labels = np.concatenate([labels, np.ones(len(added), dtype=int)])
        model = XGBClassifier(**params, scale_pos_weight=float(weight), random_state=seed)
        model.fit(x, labels)
        tick()
        val, test = (model.predict_proba(data.x[part])[:, 1] for part in ("validation", "test"))
        return _Run(arm, k, 0 if added is None else len(added), seed, cls,
                    Ranked.of(y["validation"], val, data.weights.get(cls)),
                    Ranked.of(y["test"], test))

    return fit


def _pools(
    data: _Data, cls: Any, k_max: int, seed: int, stream: int, make_smote: RowMaker | None
) -> dict[str, np.ndarray]:
    """Per adding arm, its candidate rows in the order they are added.

    Each arm draws from its own stream of ``seed`` (and the class's index), so the
    held-back real rows drawn for a seed are the same whatever the synthetic rows are.
    """
    y = data.y[cls]["fit"]
    sampler = RandomOverSampler(sampling_strategy={1: int(y.sum()) + k_max}, random_state=seed)
    pools = {"random_oversampling": sampler.fit_resample(data.x["fit"], y)[0][len(y):]}
    if make_smote is not None:
        rows = make_smote(data.fit_rows, data.schema, k_max, seed, cls)
        pools["smote"] = numeric_matrix(rows, data.schema, data.levels)
    for arm, pool in data.pools[cls].items():
        rng = np.random.default_rng([seed, stream, ARMS.index(arm)])
        pools[arm] = pool[rng.permutation(len(pool))]
    return pools


def _precision_at_half(r: Ranked) -> float:
    """Precision at threshold 0.5 (rows weighted as ``r`` says); 1 when nothing is called
    positive (no false positive, the PR-curve convention)."""
    called = r.proba >= 0.5
    weight = np.ones(len(r.y)) if r.weight is None else r.weight
    return float(np.average(r.y[called], weights=weight[called])) if called.any() else 1.0


def _threshold(r: Ranked, reference: float) -> float:
    """The threshold of the highest recall whose precision is at least ``reference`` (the
    highest such threshold on a tie); infinity when none reaches it."""
    precision, recall, thresholds = precision_recall_curve(r.y, r.proba,
                                                           sample_weight=r.weight)
    ok = np.flatnonzero(precision[:-1] >= reference - 1e-12)
    if ok.size == 0:
        return float(np.inf)
    best = ok[recall[ok] == recall[ok].max()]
    return float(thresholds[best].max())


# ---------------------------------------------------------------------- scoring


def _scores(run: _Run, base: _Run) -> dict[str, float]:
    """Test metrics of one run (validation PR AUC aside); ``base``: the same seed's and
    class's baseline, whose test precision at 0.5 is the test-threshold reference."""
    y, proba = run.test.y, run.test.proba
    pred = proba >= 0.5
    precision, recall, _ = precision_recall_curve(y, proba)
    reference = _precision_at_half(base.test)
    return {
        "recall": float(pred[y == 1].mean()),
        "precision": float(y[pred].mean()) if pred.any() else 0.0,
        "pr_auc": float(average_precision_score(y, proba)),
        "brier": float(brier_score_loss(y, proba)),
        "recall_at_base_precision": float((proba[y == 1] >= run.threshold).mean()),
        "recall_at_base_precision_test_threshold":
            float(recall[precision >= reference - 1e-12].max()),
        "validation_pr_auc": float(average_precision_score(
            run.validation.y, run.validation.proba, sample_weight=run.validation.weight)),
    }


def _table(runs: list[_Run]) -> pd.DataFrame:
    """One record per (arm, k, seed): metrics averaged over the minority classes."""
    base = {(r.seed, r.cls): r for r in runs if r.method == "baseline"}
    frame = pd.DataFrame.from_records(
        [{"method": r.method, "k": r.k, "k_used": r.k_used, "seed": r.seed,
          "threshold": r.threshold, "reference_precision": r.reference,
          **_scores(r, base[r.seed, r.cls])} for r in runs]
    )
    grouped = frame.groupby(["method", "k", "seed"], sort=False)
    chosen = ["threshold", "reference_precision"]
    out = grouped[[*METRICS, *chosen]].mean()
    out["k_used"] = grouped["k_used"].min()
    return out.reset_index()[["method", "k", "k_used", "seed", *METRICS, *chosen]]


def _arms(table: pd.DataFrame, runs: list[_Run], n_boot: int, seed: int) -> pd.DataFrame:
    """Per (arm, k): mean gains over seeds, their spread and bootstrap intervals."""
    curve = gain_curve(table)
    curve = curve[curve["method"] != "baseline"].reset_index(drop=True)
    intervals = _intervals(runs, n_boot, seed)
    rows = []
    for _, row in curve.iterrows():
        out = {"method": row["method"], "k": int(row["k"]), "k_used": int(row["k_used"]),
               "brier": row["brier_mean"]}
        for metric, name in GAIN_NAMES.items():
            low, high = intervals[row["method"], int(row["k"]), metric]
            out.update({name: row[f"{metric}_gain_mean"], f"{name}_std": row[f"{metric}_gain_std"],
                        f"{name}_low": low, f"{name}_high": high})
        rows.append(out)
    return pd.DataFrame(rows)


def _intervals(
    runs: list[_Run], n_boot: int, seed: int
) -> dict[tuple[str, int, str], tuple[float, float]]:
    """Paired bootstrap intervals of every gain: test gains over test rows (percentile
    intervals), the validation PR AUC gain over validation rows (simultaneous over the
    candidates of the advice, which picks the best of them)."""
    base = {(r.seed, r.cls): r for r in runs if r.method == "baseline"}
    test: dict[Any, list] = {}
    validation: dict[Any, list] = {}
    for run in runs:
        if run.method == "baseline":
            continue
        ref = base[run.seed, run.cls]
        for metric, pair in _test_statistics(run, ref).items():
            test.setdefault((run.method, run.k, metric), []).append(pair)
        validation.setdefault((run.method, run.k, "validation_pr_auc"), []).append(
            (_ap(run.validation), _ap(ref.validation)))
    first = runs[0]
    return {**paired_intervals(test, len(first.test.y), n_boot, seed),
            **simultaneous_intervals(validation, len(first.validation.y), n_boot, seed)}


def _ap(r: Ranked) -> Callable[[Resamples], np.ndarray]:
    return lambda batch: batch.average_precision(r)


def _test_statistics(run: _Run, ref: _Run) -> dict[str, tuple[Callable, Callable]]:
    """``metric -> (run's statistic, reference's)`` on resamples of the test rows."""
    def at_base_precision(r: Ranked) -> Callable[[Resamples], np.ndarray]:
        return lambda batch: batch.recall_at_precision(
            r, batch.precision_at(ref.test, 0.5, empty=1.0))

    return {
        "pr_auc": (_ap(run.test), _ap(ref.test)),
        "recall": (lambda b: b.recall_at(run.test, 0.5), lambda b: b.recall_at(ref.test, 0.5)),
        "recall_at_base_precision": (lambda b: b.recall_at(run.test, run.threshold),
                                     lambda b: b.recall_at(ref.test, ref.threshold)),
        "recall_at_base_precision_test_threshold": (at_base_precision(run.test),
                                                    at_base_precision(ref.test)),
    }


def _std(values: pd.Series) -> float:
    """Sample standard deviation; 0 for a single value."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0
