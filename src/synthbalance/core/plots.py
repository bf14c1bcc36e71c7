"""Report figures: training losses, real-vs-synthetic marginals, correlation differences,
the recall-gain curve, and a bar chart comparing runs.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing
is left open in pyplot's global registry and nothing is shown or written: the caller saves
the figure (a Kedro ``MatplotlibWriter``/``MlflowArtifactDataset``, or ``fig.savefig`` in a
notebook). Colours are fixed across figures: real rows blue, synthetic rows orange.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from synthbalance.core.metrics._features import column_numbers
from synthbalance.core.schema import ColumnSpec, Schema
from synthbalance.core.tables import require_columns

REAL_COLOR = "#1f77b4"
SYNTH_COLOR = "#ff7f0e"
#: arm in a gain curve -> (colour, legend label)
METHOD_STYLES: dict[str, tuple[str, str]] = {
    "synthetic": (SYNTH_COLOR, "synthetic"),
    "smote": ("#2ca02c", "SMOTE"),
    "random_oversampling": ("#9467bd", "random oversampling"),
    "real": (REAL_COLOR, "real (held-back ceiling)"),
}
#: The class-weights arm adds no rows: a horizontal line at its gain.
CLASS_WEIGHTS_STYLE = ("#8c564b", "class weights (no rows added)")
#: A numeric column with at most this many distinct values is drawn as bars (a 0..30 day
#: count has 31); more, and side-by-side bars stop being readable, so it gets a histogram.
MAX_BAR_LEVELS = 31
#: A mean Gregorian year, to draw datetimes as fractional years.
SECONDS_PER_YEAR = 365.2425 * 86_400
#: Histogram bins: the 'auto' rule's count, kept within these limits.
MIN_BINS, MAX_BINS = 15, 40
#: Correlation cells are annotated with their value up to this many columns.
MAX_ANNOTATED_COLUMNS = 15
CHECK_PREFIX = "check."
#: The bar of missing values (in brackets, so a level named "missing" stays apart).
MISSING = "(missing)"
# per-epoch history keys drawn in one panel together; any other key gets a panel of its own
_LOSS_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Adversarial losses", ("generator", "discriminator", "critic")),
    ("Wasserstein estimate (critic)", ("wasserstein",)),
    ("Gradient penalty", ("gradient_penalty",)),
    ("VAE loss", ("loss", "reconstruction", "kl")),
    ("Privacy spent (ε, DP-SGD)", ("privacy.epsilon",)),
)
#: History keys with one value per fit (training.privacy), not curves: never plotted.
_NOT_CURVES = frozenset({"privacy.delta", "privacy.noise_multiplier"})
_METRIC_LABELS = {
    "recall_at_base_precision": "recall at the baseline's precision",
    "recall": "recall",
    "precision": "precision",
    "pr_auc": "PR AUC",
}


def loss_curves(
    history: Mapping[str, Sequence[float]],
    title: str = "Training losses",
    check_epochs: Sequence[int] | None = None,
) -> Figure:
    """Per-epoch losses, grouped into panels, plus one panel of the training checks.

    ``history`` is a generator's ``history``: per-epoch keys (``generator``,
    ``discriminator``, ``critic``, ``wasserstein``, ``gradient_penalty``, ``loss``,
    ``reconstruction``, ``kl``, or any other) and ``check.<name>`` keys with one value per
    check. The checks are drawn against ``check_epochs``, else ``history["check.epoch"]``,
    else the check's index. Empty series are skipped; with nothing to draw, the figure has
    one panel saying so. Non-finite values leave gaps.
    """
    epoch_panels = _loss_panels(history)
    checks = {
        key.removeprefix(CHECK_PREFIX): list(values)
        for key, values in history.items()
        if key.startswith(CHECK_PREFIX) and key != "check.epoch" and len(values) > 0
    }
    n_panels = len(epoch_panels) + bool(checks)
    fig, axes = _grid(n_panels, ncols=2 if n_panels in (2, 4) else 3, panel=(5.0, 3.4))
    if n_panels == 0:
        _no_data(axes[0], "no losses recorded")
    for ax, (name, series) in zip(axes, epoch_panels, strict=False):
        for key, values in series.items():
            # markers keep a short run (a single epoch included) visible
            ax.plot(
                np.arange(1, len(values) + 1),
                _finite(values),
                label=key,
                linewidth=1.4,
                marker="o" if len(values) <= 30 else None,
                markersize=3,
            )
        ax.set(title=name, xlabel="epoch", ylabel="loss")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if checks:
        epochs = check_epochs if check_epochs is not None else history.get("check.epoch")
        _plot_checks(axes[-1], checks, epochs, explicit=check_epochs is not None)
    fig.suptitle(title)
    return fig


def marginals(
    real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, max_columns: int = 40
) -> Figure:
    """One panel per feature column comparing real and synthetic values.

    Numeric columns with more than :data:`MAX_BAR_LEVELS` distinct values: overlaid density
    histograms on shared bins spanning both sides' 0.5-99.5 % quantiles (missing values
    dropped, their shares written in the panel; a positive column with skewness above 2 on
    a log axis). Binary, categorical, and numeric columns with few levels (ordinal bands,
    day counts): side-by-side bars of each level's share of rows, missing values as a bar
    of their own (at most the :data:`MAX_BAR_LEVELS` most frequent text levels). Only the
    first ``max_columns`` columns of the schema are drawn.
    """
    if max_columns < 1:
        raise ValueError(f"max_columns is {max_columns}; draw at least one column.")
    require_columns(real, schema.names, "real rows")
    require_columns(synth, schema.names, "synthetic rows")
    specs = schema.columns[:max_columns]
    fig, axes = _grid(len(specs), ncols=4, panel=(3.6, 2.8))
    if not specs:
        _no_data(axes[0], "the schema has no feature columns")
    for ax, spec in zip(axes, specs, strict=False):
        _marginal(ax, *(_plotted(df[spec.name], spec) for df in (real, synth)), spec)
    handles = [
        Patch(facecolor=REAL_COLOR, alpha=0.6, label="real"),
        Patch(facecolor=SYNTH_COLOR, alpha=0.6, label="synthetic"),
    ]
    fig.legend(handles=handles, loc="outside upper right", ncols=2, frameon=False)
    shown = (
        ""
        if len(schema.columns) <= max_columns
        else (f" (first {max_columns} of {len(schema.columns)} columns)")
    )
    fig.suptitle(f"Marginal distributions: real vs. synthetic{shown}")
    return fig


def correlation_heatmap(
    diff: pd.DataFrame,
    title: str = "Correlation difference |real − synthetic|",
    vmax: float = 0.5,
) -> Figure:
    """Heatmap of the absolute difference of two correlation matrices.

    ``diff`` is square with the column names as index and columns, e.g.
    :func:`synthbalance.core.metrics.correlation_difference` (signed; the absolute value is
    drawn). The colour scale is fixed to ``0..vmax`` so runs compare (a difference of 0.5
    is already a lost relation; larger ones share the top colour); the diagonal is greyed
    out, and the subtitle gives the mean off-diagonal difference (``correlation_distance``).
    """
    if diff.shape[0] != diff.shape[1]:
        raise ValueError(f"diff must be a square matrix; got shape {diff.shape}.")
    n = diff.shape[0]
    values = np.abs(diff.to_numpy(dtype=float, copy=True))
    np.fill_diagonal(values, np.nan)  # 0 by construction, and it would read as "perfect"
    side = max(4.0, 0.55 * n + 2.0)
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.add_subplot()
    if n == 0:
        _no_data(ax, "no columns to correlate")
        fig.suptitle(title)
        return fig
    cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(values, cmap=cmap, vmin=0.0, vmax=vmax)
    extend = "max" if np.nanmax(values, initial=0.0) > vmax else "neither"
    fig.colorbar(image, ax=ax, label="|Δ correlation|", extend=extend, shrink=0.8)
    labels = [str(c) for c in diff.columns]
    ax.set_xticks(range(n), labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), [str(i) for i in diff.index])
    if n <= MAX_ANNOTATED_COLUMNS:
        _annotate_cells(ax, values, vmax)
    off = values[~np.isnan(values)]
    mean = f"mean off-diagonal |Δ| = {off.mean():.3f}" if off.size else "no defined pair"
    ax.set_title(mean, fontsize=10)
    fig.suptitle(title)
    return fig


def recall_gain_curve(
    curve: pd.DataFrame, metric: str = "recall_at_base_precision", title: str | None = None
) -> Figure:
    """Gain over the baseline against k, the number of minority rows added.

    ``curve`` is :func:`synthbalance.core.metrics.gain_curve`'s output (also
    ``UtilityResult.curve()``): one row per ``method`` and ``k`` with columns
    ``<metric>_gain_mean`` and, optionally, ``<metric>_gain_std`` (the spread over seeds,
    drawn as a ±1 std band); a baseline row (``method == "baseline"``) with ``<metric>_mean``
    puts the baseline's own value in the legend. The per-seed table
    (``UtilityResult.table``, recognised by its ``seed`` column) is summarised first.
    Arms drawn, where present: ``synthetic``, ``smote``, ``random_oversampling``, ``real``
    as lines over k, and ``class_weights`` (no rows added) as a dotted horizontal line.
    """
    if "seed" in curve.columns:
        # lazy: the utility module pulls in xgboost and sklearn, which plotting needs not
        from synthbalance.core.metrics.utility import gain_curve

        curve = gain_curve(curve)
    mean_col, std_col = f"{metric}_gain_mean", f"{metric}_gain_std"
    missing = [c for c in ("method", "k", mean_col) if c not in curve.columns]
    if missing:
        available = sorted(
            c.removesuffix("_gain_mean") for c in curve.columns if c.endswith("_gain_mean")
        )
        raise ValueError(
            f"The gain curve lacks column(s) {missing}; metrics with gains: {available}."
        )
    label = _METRIC_LABELS.get(metric, metric)
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    ks = _plot_gain_lines(ax, curve, mean_col, std_col)
    ax.axhline(
        0.0,
        color="black",
        linestyle="--",
        linewidth=1.0,
        label=_baseline_label(curve, metric, label),
    )
    if ks.size and ks.min() > 0 and ks.max() / ks.min() >= 20:
        ax.set_xscale("log")
    ax.set(
        xlabel="k: minority rows added to the training split",
        ylabel=f"gain in {label}\n(mean ± std over seeds)",
        title=title or f"Gain in {label} over the baseline",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return fig


def comparison_bars(
    table: pd.DataFrame,
    metrics: Sequence[str],
    title: str = "Model comparison",
    references: Mapping[str, float] | None = None,
) -> Figure:
    """One panel per metric, one horizontal bar per row of ``table`` (its index names it).

    Built for comparing runs, e.g. MLflow runs indexed by model family. A column
    ``<metric>_std``, where present, is drawn as an error bar; ``references`` draws a
    dashed line per metric (e.g. ``{"detection.accuracy": 0.5}``). Missing values read "n/a".
    """
    if not metrics:
        raise ValueError("Name at least one metric to compare.")
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise ValueError(f"The table lacks metric column(s) {missing}; it has {list(table)}.")
    names = [str(i) for i in table.index]
    ncols = min(len(metrics), 3)
    margin = 0.08 * max((len(n) for n in names), default=0)  # room for the model names
    panel = (4.2, 0.45 * len(names) + 1.4)
    fig, axes = _grid(len(metrics), ncols=ncols, panel=panel, margin=margin)
    colors = [f"C{i % 10}" for i in range(len(names))]
    for i, (ax, metric) in enumerate(zip(axes, metrics, strict=True)):
        std = table[f"{metric}_std"] if f"{metric}_std" in table.columns else None
        _bars_panel(ax, pd.to_numeric(table[metric], errors="coerce"), std, names, colors)
        ax.set_title(metric, fontsize=10)
        if references and metric in references:
            ax.axvline(references[metric], color="black", linestyle="--", linewidth=1.0)
        if i % ncols:
            ax.tick_params(labelleft=False)
    fig.suptitle(title)
    return fig


# ---- helpers ---------------------------------------------------------------------------


def _grid(
    n: int, ncols: int, panel: tuple[float, float], margin: float = 0.0
) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels (at least one) in rows of ``ncols``; spare cells removed.

    ``margin`` (inches) widens the figure for long tick labels left of the first column.
    """
    n = max(n, 1)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    size = (panel[0] * ncols + margin, panel[1] * nrows + 0.6)
    fig = Figure(figsize=size, layout="constrained")
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def _finite(values: Sequence[float] | pd.Series) -> np.ndarray:
    """Floats with every non-finite or non-numeric value as NaN (a gap in a line)."""
    out = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
    out[~np.isfinite(out)] = np.nan
    return out


def _loss_panels(
    history: Mapping[str, Sequence[float]],
) -> list[tuple[str, dict[str, Sequence[float]]]]:
    """(panel title, {key: values}) for every non-empty per-epoch series."""
    epoch_keys = [k for k, v in history.items()
                  if not k.startswith(CHECK_PREFIX) and k not in _NOT_CURVES and len(v)]
    panels = []
    for name, keys in _LOSS_GROUPS:
        series = {k: history[k] for k in keys if k in epoch_keys}
        if series:
            panels.append((name, series))
    grouped = {k for _, keys in _LOSS_GROUPS for k in keys}
    panels += [(k, {k: history[k]}) for k in epoch_keys if k not in grouped]
    return panels


def _plot_checks(
    ax: Axes, checks: dict[str, list[float]], epochs: Sequence[float] | None, explicit: bool
) -> None:
    n = max(len(v) for v in checks.values())
    if explicit and epochs is not None and len(epochs) != n:
        raise ValueError(f"check_epochs has {len(epochs)} values but the history holds {n} checks.")
    use_epochs = epochs is not None and len(epochs) == n
    for key, values in checks.items():
        x = np.asarray(epochs, float) if use_epochs else np.arange(1.0, n + 1)
        x = x[: len(values)]  # a series cut short (an interrupted run) keeps its first checks
        ax.plot(x, _finite(values), marker="o", markersize=4, label=key, linewidth=1.4)
    ax.set(
        title="Checks during training", xlabel="epoch" if use_epochs else "check", ylabel="value"
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _plotted(series: pd.Series, spec: ColumnSpec) -> pd.Series:
    """A datetime column as fractional years (2021.5), so its histogram reads as dates."""
    if spec.kind != "datetime":
        return series
    return pd.Series(1970 + column_numbers(series, spec) / SECONDS_PER_YEAR, index=series.index)


def _marginal(ax: Axes, real: pd.Series, synth: pd.Series, spec: ColumnSpec) -> None:
    ax.set_title(f"{spec.name} ({spec.kind})", fontsize=10)
    if spec.is_numeric:
        r, s = _finite(real), _finite(synth)
        n_levels = len(np.union1d(r[~np.isnan(r)], s[~np.isnan(s)]))
        if n_levels > MAX_BAR_LEVELS:
            _histograms(ax, r, s)
            return
    _level_bars(ax, real, synth, numeric=spec.is_numeric)


def _histograms(ax: Axes, real: np.ndarray, synth: np.ndarray) -> None:
    """Density histograms on shared bins; the share of missing values as a note.

    Densities are over each side's non-missing values, so mass outside the drawn range
    (beyond the 0.5-99.5 % quantiles) is left out rather than piled into the edge bins.
    """
    sides = [v[~np.isnan(v)] for v in (real, synth)]
    edges, log = _bins([v for v in sides if v.size])
    widths = np.diff(np.log10(edges) if log else edges)
    for values, color, label in zip(
        sides, (REAL_COLOR, SYNTH_COLOR), ("real", "synthetic"), strict=True
    ):
        if values.size:
            density = np.histogram(values, edges)[0] / (values.size * widths)
            ax.stairs(density, edges, fill=True, alpha=0.4, color=color, label=label)
            ax.stairs(density, edges, color=color, linewidth=1.2)
    if log:
        ax.set_xscale("log")
    ax.set_ylabel("density per log10 unit" if log else "density")
    ax.tick_params(labelsize=8)
    shares = [np.isnan(v).mean() if v.size else 0.0 for v in (real, synth)]
    if any(shares):
        ax.text(
            0.98,
            0.97,
            f"missing: {shares[0]:.1%} real, {shares[1]:.1%} synth.",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
            color="dimgrey",
        )


def _bins(present: list[np.ndarray]) -> tuple[np.ndarray, bool]:
    """Shared bin edges over both sides' central 99 %, log-spaced for a skewed positive column
    (a log-normal cost would otherwise be one bar at zero and a long empty tail)."""
    pooled = np.concatenate(present)
    log = bool(pooled.min() > 0 and _skewness(pooled) > 2.0)
    scaled = [np.log10(v) if log else v for v in present]
    lo = min(float(np.quantile(v, 0.005)) for v in scaled)
    hi = max(float(np.quantile(v, 0.995)) for v in scaled)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    auto = np.histogram_bin_edges(np.concatenate(scaled), bins="auto", range=(lo, hi))
    edges = np.linspace(lo, hi, int(np.clip(len(auto) - 1, MIN_BINS, MAX_BINS)) + 1)
    return (10.0**edges if log else edges), log


def _skewness(values: np.ndarray) -> float:
    std = values.std()
    return float(((values - values.mean()) ** 3).mean() / std**3) if std > 0 else 0.0


def _level_bars(ax: Axes, real: pd.Series, synth: pd.Series, numeric: bool) -> None:
    """Side-by-side bars of each level's share of rows, missing values as the last bar.

    Numeric levels stand at their values (gaps between day counts show as gaps); text
    levels stand side by side in the schema's (sorted) order.
    """
    shares = pd.concat(
        [_level_shares(real, numeric), _level_shares(synth, numeric)], axis=1
    ).fillna(0.0)
    order = _level_order(shares.drop(index=MISSING, errors="ignore"), numeric)
    has_missing = MISSING in shares.index and bool(shares.loc[MISSING].any())
    if not order and not has_missing:
        _no_data(ax, "no values")
        return
    shares = shares.loc[order + [MISSING] * has_missing]
    x, width, ticks, labels = _bar_layout(order, numeric, has_missing)
    ax.bar(x - width / 2, shares.iloc[:, 0], width=width, color=REAL_COLOR, alpha=0.8, label="real")
    ax.bar(
        x + width / 2,
        shares.iloc[:, 1],
        width=width,
        color=SYNTH_COLOR,
        alpha=0.8,
        label="synthetic",
    )
    long = max(len(t) for t in labels) > 4 or len(labels) > 8
    ax.set_xticks(
        ticks,
        labels,
        rotation=45 if long else 0,
        ha="right" if long else "center",
        rotation_mode="anchor",
        fontsize=8,
    )
    ax.set_ylabel("share of rows")
    ax.tick_params(axis="y", labelsize=8)


def _bar_layout(
    levels: list[object], numeric: bool, has_missing: bool
) -> tuple[np.ndarray, float, np.ndarray, list[str]]:
    """Bar centres, the width of one bar, tick positions and tick labels."""
    if not numeric or not levels:
        x = np.arange(len(levels) + has_missing, dtype=float)
        return x, 0.4, x, [_level_label(v) for v in levels] + [MISSING] * has_missing
    values = np.asarray(levels, dtype=float)
    gap = float(np.diff(values).min()) if len(values) > 1 else 1.0
    ticks = MaxNLocator(nbins=8, integer=bool(np.all(values % 1 == 0))).tick_values(
        values.min(), values.max()
    )
    ticks = ticks[(ticks >= values.min()) & (ticks <= values.max())]
    labels = [_level_label(float(t)) for t in ticks]
    x = values
    if has_missing:
        slot = values.max() + max(2 * gap, 0.08 * (values.max() - values.min()))
        x, ticks, labels = np.append(x, slot), np.append(ticks, slot), [*labels, MISSING]
    return x, 0.4 * gap, ticks, labels


def _level_shares(series: pd.Series, numeric: bool) -> pd.Series:
    """Each level's share of all rows, missing ones included under the key MISSING."""
    values = series.dropna()
    if numeric:
        keys = pd.Series(_finite(values), index=values.index).dropna()
    else:  # text keys, so 1, 1.0 and "1" from two sources are one level
        keys = values.map(_level_label)
    out = keys.value_counts() / max(len(series), 1)
    missing = len(series) - len(keys)  # in a numeric column, unparsable values count too
    if missing:
        out = pd.concat([out, pd.Series({MISSING: missing / len(series)})])
    return out


def _level_order(shares: pd.DataFrame, numeric: bool) -> list[object]:
    """Levels in their natural order; beyond MAX_BAR_LEVELS text levels, the most frequent."""
    if numeric:
        return sorted(shares.index, key=float)
    if len(shares) > MAX_BAR_LEVELS:
        shares = shares.loc[shares.sum(axis=1).nlargest(MAX_BAR_LEVELS).index]
    return sorted(shares.index, key=str)


def _level_label(value: object) -> str:
    """A level or tick as text: whole numbers without ``.0``, other floats to 12
    significant digits (a tick at 36.800000000000004 reads 36.8)."""
    if isinstance(value, float | np.floating):
        value = float(f"{float(value):.12g}")
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _annotate_cells(ax: Axes, values: np.ndarray, vmax: float) -> None:
    for (i, j), value in np.ndenumerate(values):
        if not np.isnan(value):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > 0.6 * vmax else "black",
            )


def _plot_gain_lines(ax: Axes, curve: pd.DataFrame, mean_col: str, std_col: str) -> np.ndarray:
    """A line and a ±std band per method; returns every k drawn."""
    drawn = []
    for method, (color, label) in METHOD_STYLES.items():
        rows = curve[curve["method"] == method].sort_values("k")
        if rows.empty:
            continue
        k = rows["k"].to_numpy(float)
        mean = _finite(rows[mean_col])
        std = _finite(rows[std_col]) if std_col in rows.columns else np.zeros_like(mean)
        std = np.nan_to_num(std)
        ax.plot(k, mean, marker="o", color=color, label=label, linewidth=1.8)
        ax.fill_between(k, mean - std, mean + std, color=color, alpha=0.18, linewidth=0)
        drawn.append(k)
    weights = curve[curve["method"] == "class_weights"]
    if not weights.empty and np.isfinite(_finite(weights[mean_col])).any():
        color, label = CLASS_WEIGHTS_STYLE
        ax.axhline(float(np.nanmean(_finite(weights[mean_col]))), color=color, linestyle=":",
                   linewidth=1.5, label=label)
    return np.concatenate(drawn) if drawn else np.array([])


def _baseline_label(curve: pd.DataFrame, metric: str, label: str) -> str:
    base = curve[curve["method"] == "baseline"]
    column = f"{metric}_mean"
    if base.empty or column not in base.columns or base[column].isna().all():
        return "baseline"
    return f"baseline ({label} = {float(base[column].mean()):.3f})"


def _bars_panel(
    ax: Axes, values: pd.Series, std: pd.Series | None, names: list[str], colors: list[str]
) -> None:
    y = np.arange(len(names))
    widths = values.to_numpy(float)
    xerr = None if std is None else np.nan_to_num(_finite(std))
    bars = ax.barh(
        y,
        np.nan_to_num(widths),
        xerr=xerr,
        color=colors,
        alpha=0.85,
        error_kw={"elinewidth": 1, "capsize": 3},
    )
    ax.bar_label(
        bars, labels=["n/a" if np.isnan(v) else f"{v:.3g}" for v in widths], padding=3, fontsize=8
    )
    ax.set_yticks(y, names)
    ax.invert_yaxis()  # first row on top, as in the table
    if np.nanmin(widths, initial=0.0) < 0:
        ax.axvline(0.0, color="black", linewidth=0.8)
    ax.margins(x=0.2)
    ax.grid(axis="x", alpha=0.3)
