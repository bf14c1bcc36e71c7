"""Report figures: right panels, real artists, no pyplot state left behind, and they draw."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle, StepPatch

from synthbalance.core import plots
from synthbalance.core.metrics import correlation_difference, gain_curve
from synthbalance.core.schema import Schema, infer_schema
from synthbalance.core.validation import validate_table

WGAN_HISTORY = {
    "generator": [1.5, 1.2, 1.0, 0.9],
    "critic": [-2.0, -1.0, -0.5, -0.3],
    "wasserstein": [2.0, 1.0, 0.5, 0.3],
    "gradient_penalty": [0.1, 0.05, 0.02, 0.01],
    "check.epoch": [2.0, 4.0],
    "check.score": [0.4, 0.2],
    "check.wasserstein_mean": [0.4, 0.2],
    "check.detection_accuracy": [0.9, 0.7],
}


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """Every plot function must leave pyplot's registry as it found it: empty."""
    assert plt.get_fignums() == []
    yield
    assert plt.get_fignums() == []


@pytest.fixture(scope="module")
def table(demo: pd.DataFrame) -> tuple[pd.DataFrame, Schema]:
    return validate_table(demo, "outcome")


@pytest.fixture(scope="module")
def real(table: tuple[pd.DataFrame, Schema]) -> pd.DataFrame:
    df, schema = table
    return df[df[schema.target] == schema.minority_classes[0]]


@pytest.fixture(scope="module")
def synth(real: pd.DataFrame) -> pd.DataFrame:
    """Minority rows a generator might make: shifted, a value lost here and there."""
    rng = np.random.default_rng(0)
    rows = real.sample(frac=1.0, replace=True, random_state=1).reset_index(drop=True)
    return rows.assign(
        glucose=rows["glucose"] * 1.05 + rng.normal(0, 5, len(rows)),
        annual_cost=rows["annual_cost"].mask(rng.random(len(rows)) < 0.1),
        insurance=rows["insurance"].where(rng.random(len(rows)) > 0.05, None),
    )


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    """A per-seed utility table shaped like ``UtilityResult.table``."""
    rng = np.random.default_rng(0)
    records = []
    for seed in range(3):
        base = {"recall": 0.4, "precision": 0.6, "pr_auc": 0.5, "recall_at_base_precision": 0.4}
        records.append({"method": "baseline", "k": 0, "k_used": 0, "seed": seed, **base})
        for k in (50, 100, 200):
            for method, slope in (("synthetic", 0.04), ("smote", 0.02), ("real", 0.07)):
                gain = slope * np.log1p(k / 50) + rng.normal(0, 0.01)
                scores = {m: v + gain for m, v in base.items()}
                records.append({"method": method, "k": k, "k_used": k, "seed": seed, **scores})
    return pd.DataFrame.from_records(records)


@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fidelity.wasserstein_mean": [0.12, 0.09, np.nan],
            "detection.accuracy": [0.81, 0.74, 0.9],
            "utility.recall_gain": [0.02, 0.035, -0.01],
        },
        index=["gan", "wcgan_gp", "vae"],
    )


def _line_labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


def test_loss_curves_groups_losses_and_draws_checks_against_epochs() -> None:
    fig = plots.loss_curves(WGAN_HISTORY, title="wgan_gp")
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Adversarial losses",
        "Wasserstein estimate (critic)",
        "Gradient penalty",
        "Checks during training",
    ]
    assert _line_labels(fig.axes[0]) == ["generator", "critic"]
    checks = fig.axes[-1]
    assert _line_labels(checks) == ["score", "wasserstein_mean", "detection_accuracy"]
    np.testing.assert_array_equal(checks.get_lines()[0].get_xdata(), [2.0, 4.0])
    assert checks.get_xlabel() == "epoch"
    assert fig.get_suptitle() == "wgan_gp"


def test_loss_curves_check_epochs_argument_and_its_length() -> None:
    history = {k: v for k, v in WGAN_HISTORY.items() if k != "check.epoch"}
    by_index = plots.loss_curves(history).axes[-1]
    assert by_index.get_xlabel() == "check"
    np.testing.assert_array_equal(by_index.get_lines()[0].get_xdata(), [1.0, 2.0])
    by_arg = plots.loss_curves(history, check_epochs=[10, 20]).axes[-1]
    np.testing.assert_array_equal(by_arg.get_lines()[0].get_xdata(), [10.0, 20.0])
    with pytest.raises(ValueError, match="check_epochs has 3 values"):
        plots.loss_curves(history, check_epochs=[1, 2, 3])


def test_loss_curves_vae_and_unknown_keys_get_their_own_panels() -> None:
    history = {
        "loss": [3.0, 2.0],
        "reconstruction": [2.5, 1.6],
        "kl": [0.5, 0.4],
        "beta": [1.0, 1.0],
    }
    fig = plots.loss_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["VAE loss", "beta"]
    assert _line_labels(fig.axes[0]) == ["loss", "reconstruction", "kl"]


@pytest.mark.parametrize(
    "history",
    [{}, {"generator": [], "check.score": []}, {"check.epoch": [1.0]}],
    ids=["empty", "empty-lists", "epochs-only"],
)
def test_loss_curves_without_values_draws_one_note(history: dict) -> None:
    fig = plots.loss_curves(history)
    assert len(fig.axes) == 1
    assert "no losses" in fig.axes[0].texts[0].get_text()


def test_loss_curves_tolerates_nan_and_inf() -> None:
    fig = plots.loss_curves({"generator": [1.0, np.nan, np.inf, 0.5], "check.score": [np.nan]})
    y = fig.axes[0].get_lines()[0].get_ydata()
    assert np.isnan(y[1]) and np.isnan(y[2]) and y[3] == 0.5
    assert len(fig.axes) == 2


def test_marginals_one_panel_per_column_with_the_right_kind_of_plot(
    table: tuple[pd.DataFrame, Schema], real: pd.DataFrame, synth: pd.DataFrame
) -> None:
    _, schema = table
    fig = plots.marginals(real, synth, schema)
    assert len(fig.axes) == len(schema.columns)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["real", "synthetic"]
    panels = {ax.get_title().split(" ")[0]: ax for ax in fig.axes}
    for name, ax in panels.items():
        assert ax.patches, f"{name} has nothing drawn"
    # continuous: histograms on shared bins; the skewed positive cost on a log axis
    steps = [p for p in panels["glucose"].patches if isinstance(p, StepPatch)]
    assert len(steps) == 4  # a fill and an outline per side
    np.testing.assert_array_equal(steps[0].get_data().edges, steps[2].get_data().edges)
    assert panels["annual_cost"].get_xscale() == "log"
    assert panels["glucose"].get_xscale() == "linear"
    # discrete and counts: bars, real and synthetic per level, missing as its own bar
    bars = [p for p in panels["region"].patches if isinstance(p, Rectangle)]
    ticks = [t.get_text() for t in panels["region"].get_xticklabels()]
    assert ticks == ["central", "east", "north", "south", "west", plots.MISSING]
    assert len(bars) == 2 * len(ticks)
    assert plots.MISSING in [t.get_text() for t in panels["insurance"].get_xticklabels()]
    assert all(isinstance(p, Rectangle) for p in panels["bad_physical_days"].patches)


def test_marginals_tick_labels_carry_no_float_noise() -> None:
    """Levels 36.0, 36.2, ... as float sums give ticks at 36.800000000000004: labelled 36.8."""
    levels = np.arange(36.0, 37.4, 0.2)  # 36.00000000000001, 36.400000000000006, ...
    rows = pd.DataFrame({"temp": np.tile(levels, 20), "y": np.tile([0, 1], 70)})
    schema = infer_schema(rows, "y")
    fig = plots.marginals(rows, rows, schema)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "36.8" in ticks and max(len(t) for t in ticks) <= 4, ticks


def test_marginals_level_shares_are_shares_of_all_rows(
    table: tuple[pd.DataFrame, Schema], real: pd.DataFrame
) -> None:
    _, schema = table
    fig = plots.marginals(real, real, schema)
    region = next(ax for ax in fig.axes if ax.get_title().startswith("region"))
    heights = [p.get_height() for p in region.patches]
    n_levels = len(heights) // 2
    assert sum(heights[:n_levels]) == pytest.approx(1.0)
    assert heights[:n_levels] == heights[n_levels:]  # identical frames, identical bars


def test_marginals_handles_all_missing_columns_and_caps_the_panels(
    table: tuple[pd.DataFrame, Schema], real: pd.DataFrame
) -> None:
    _, schema = table
    broken = real.assign(glucose=np.nan, region=None, age_band=np.nan)
    fig = plots.marginals(real, broken, schema)
    assert len(fig.axes) == len(schema.columns)
    fig = plots.marginals(real.iloc[:0], broken, schema, max_columns=3)
    assert len(fig.axes) == 3
    assert f"first 3 of {len(schema.columns)}" in fig.get_suptitle()


def test_marginals_names_missing_columns(
    table: tuple[pd.DataFrame, Schema], real: pd.DataFrame
) -> None:
    _, schema = table
    with pytest.raises(ValueError, match="glucose"):
        plots.marginals(real, real.drop(columns="glucose"), schema)


def test_correlation_heatmap_draws_absolute_differences(
    table: tuple[pd.DataFrame, Schema], real: pd.DataFrame, synth: pd.DataFrame
) -> None:
    _, schema = table
    diff = correlation_difference(real, synth, schema)
    fig = plots.correlation_heatmap(diff)
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    ax = fig.axes[0]
    (image,) = [a for a in ax.get_images() if isinstance(a, AxesImage)]
    drawn = np.ma.filled(image.get_array(), np.nan)
    expected = np.abs(diff.to_numpy())
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_allclose(drawn, expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == schema.names
    assert ax.get_xticklabels()[0].get_rotation() == 45
    n = len(schema.names)
    assert len(ax.texts) == n * n - n  # every off-diagonal cell annotated
    assert fig.axes[1].get_ylabel() == "|Δ correlation|"


def test_correlation_heatmap_nan_cells_and_bad_shapes() -> None:
    diff = pd.DataFrame([[0.0, np.nan], [np.nan, 0.0]], index=["a", "b"], columns=["a", "b"])
    fig = plots.correlation_heatmap(diff)
    assert "no defined pair" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="square"):
        plots.correlation_heatmap(pd.DataFrame(np.zeros((2, 3))))


def test_recall_gain_curve_from_gain_curve_output(runs: pd.DataFrame) -> None:
    curve = gain_curve(runs)
    fig = plots.recall_gain_curve(curve)
    (ax,) = fig.axes
    labels = _line_labels(ax)
    assert labels[:3] == ["synthetic", "SMOTE", "real (held-back ceiling)"]
    assert labels[3].startswith("baseline (")  # the baseline's own value in the legend
    assert ax.get_lines()[3].get_ydata()[0] == 0.0
    synthetic = curve[curve["method"] == "synthetic"].sort_values("k")
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), synthetic["k"])
    np.testing.assert_allclose(
        ax.get_lines()[0].get_ydata(), synthetic["recall_at_base_precision_gain_mean"]
    )
    assert len(ax.collections) == 3  # one ±std band per method
    assert "k" in ax.get_xlabel()


def test_recall_gain_curve_accepts_the_per_seed_table_and_a_subset(runs: pd.DataFrame) -> None:
    fig = plots.recall_gain_curve(runs, metric="pr_auc")
    assert len(fig.axes[0].get_lines()) == 4
    only = gain_curve(runs[runs["method"].isin(["baseline", "synthetic"])])
    only = only.drop(columns="recall_gain_std")
    fig = plots.recall_gain_curve(only, metric="recall")
    assert _line_labels(fig.axes[0])[0] == "synthetic"
    assert len(fig.axes[0].get_lines()) == 2


def test_recall_gain_curve_names_the_metrics_it_could_draw(runs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="pr_auc"):
        plots.recall_gain_curve(gain_curve(runs), metric="precision")


def test_recall_gain_curve_log_axis_for_a_wide_k_grid() -> None:
    curve = pd.DataFrame(
        {"method": "synthetic", "k": [10, 100, 1000], "recall_gain_mean": [0.0, 0.01, 0.02]}
    )
    assert plots.recall_gain_curve(curve, metric="recall").axes[0].get_xscale() == "log"


def test_comparison_bars_one_panel_per_metric_one_bar_per_model(
    comparison: pd.DataFrame,
) -> None:
    metrics = list(comparison.columns)
    fig = plots.comparison_bars(comparison, metrics, references={"detection.accuracy": 0.5})
    assert [ax.get_title() for ax in fig.axes] == metrics
    for ax in fig.axes:
        assert len(ax.patches) == len(comparison)
    first = fig.axes[0]
    assert [t.get_text() for t in first.get_yticklabels()] == ["gan", "wcgan_gp", "vae"]
    assert "n/a" in [t.get_text() for t in first.texts]
    assert any(line.get_xdata()[0] == 0.5 for line in fig.axes[1].get_lines())


def test_comparison_bars_error_bars_and_bad_metrics(comparison: pd.DataFrame) -> None:
    with_std = comparison.assign(**{"utility.recall_gain_std": [0.01, 0.02, 0.01]})
    fig = plots.comparison_bars(with_std, ["utility.recall_gain"])
    (bars,) = [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]
    assert bars.errorbar is not None
    with pytest.raises(ValueError, match="nope"):
        plots.comparison_bars(comparison, ["nope"])
    with pytest.raises(ValueError, match="at least one"):
        plots.comparison_bars(comparison, [])


def test_every_figure_renders_to_png(
    tmp_path: Path,
    *,
    table: tuple[pd.DataFrame, Schema],
    real: pd.DataFrame,
    synth: pd.DataFrame,
    runs: pd.DataFrame,
    comparison: pd.DataFrame,
) -> None:
    _, schema = table
    figures = {
        "loss": plots.loss_curves(WGAN_HISTORY),
        "loss_empty": plots.loss_curves({}),
        "marginals": plots.marginals(real, synth, schema),
        "heatmap": plots.correlation_heatmap(correlation_difference(real, synth, schema)),
        "gain": plots.recall_gain_curve(gain_curve(runs)),
        "bars": plots.comparison_bars(comparison, list(comparison.columns)),
    }
    for name, fig in figures.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=50)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_marginals_text_levels_match_across_int_and_float_codes(
    table: tuple[pd.DataFrame, Schema], real: pd.DataFrame
) -> None:
    _, schema = table
    as_float = real.assign(smoker=real["smoker"].astype(float))  # as a CSV with NaN reads it
    fig = plots.marginals(real, as_float, schema)
    smoker = next(ax for ax in fig.axes if ax.get_title().startswith("smoker"))
    assert [t.get_text() for t in smoker.get_xticklabels()] == ["0", "1"]
    heights = [p.get_height() for p in smoker.patches]
    assert heights[:2] == heights[2:]
