"""A reversible tabular transformer: a table of mixed columns <-> a float matrix of spans.

Per column kind (see :mod:`synthbalance.core.schema`):

* ``continuous`` and ``integer``: mode-specific normalisation (CTGAN's, Xu et al. 2019),
  made for real-world columns. A value held by at least 5 % of the rows (a money column's 0,
  a capped maximum) is a *point mass*: a slot of its own in the mode block, decoded exactly.
  A 1-D Gaussian mixture is fitted on (a sample of) the other training values, on ``log1p``
  of them when they are non-negative and skewed beyond 2 (a long tail); each value is
  encoded as the one-hot of its most likely mode plus its offset within that mode,
  ``(x - mu_k) / (4 sigma_k)``. Integers are rounded back on decoding.
  *Class modes*: when the fitted rows carry the target, each minority class's values get
  point masses of their own (5 % of the class, and a spike: at least twice as many of the
  class's values as its nearest value on either side holds, so a smooth integer column's
  commonest values are not taken for one), and, where more than 1 % of them lie
  beyond four standard deviations of their most likely mode, a mixture of their own, kept
  beside the whole column's; none of these stands for fewer than 10 of the class's
  values. The rows we generate are the minority's, and a rare class is a sliver of the
  whole column: the credit card's 100 frauds are 0.06 % of its rows, a mixture of the
  whole column gives them no mode (every mode under 0.5 % is dropped), and 42 % of their
  ``V12`` values lay out of every mode's reach, where a generator's tanh offset cannot go.
* ``count``, ``ordinal``, ``binary``, ``categorical``: one-hot over the training levels (counts
  with more than ``max_onehot_levels`` levels fall back to the integer encoding). A one-hot
  block can only decode to a level that exists, so bounded counts never come back negative.
* ``datetime``: seconds since the epoch (:mod:`synthbalance.core.dates`), then encoded like
  ``integer`` (whole seconds); decoded back to text in the column's format, or to its
  ``datetime64`` dtype. A date that is never before another date column in the training
  rows (an order rule, :mod:`synthbalance.core.order_rules`; of several, the nearest by
  median among those seldom missing where it is present) is *anchored* to it: encoded as
  the seconds after it, so a generator learns how far apart the two are (a hospital stay's
  length) rather than two dates it must keep close on its own; decoded by adding the
  anchor's decoded date back. Where the anchor is missing, its training median stands in,
  both ways, so the round trip stays exact; and where no training row has the date without
  its anchor (never delivered unless shipped), a decoded row without the anchor gets no date
  either.
* ``identifier`` and ``constant`` columns are not in ``schema.columns``: never encoded.
* Missing values: a last "missing" slot in the column's one-hot block (the mode block for
  numeric columns), so they are learned at their real rate and restored on decoding.

The fitted state is plain data (``to_state`` / ``from_state``), safe for
``torch.load(weights_only=True)`` and JSON alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import skew
from sklearn.mixture import GaussianMixture

from synthbalance.core.dates import from_seconds, to_seconds
from synthbalance.core.errors import DataValidationError, ModelFileError, NotFittedError
from synthbalance.core.layout import CodedRows, Span, SpanLayout
from synthbalance.core.order_rules import date_seconds, find_order_rules
from synthbalance.core.parallel import map_columns
from synthbalance.core.schema import Schema
from synthbalance.core.tables import label_mask, require_columns
from synthbalance.core.values import restore_dtype, sorted_levels

logger = logging.getLogger(__name__)

#: Mixture components below this weight are dropped after fitting.
MIN_MODE_WEIGHT = 0.005
#: No class mode or class point mass stands for fewer of the class's values than this: a
#: mode of one or two rows would hand a generator their values.
MIN_MODE_ROWS = 10
#: A class's mixture gets at most one component per this many of its values (a class of
#: 100 rows two), so that its components are wide enough to keep after fitting.
ROWS_PER_MODE = 50
#: A normalised offset of 1 is four standard deviations of its mode.
MODE_SCALE = 4.0
#: A value held by at least this share of a numeric column's values is a point mass (a
#: money column's 0, a capped maximum): a mode slot of its own, decoded exactly, so the
#: mixture is not spent on a spike and the spike does not come back smeared.
POINT_MASS_SHARE = 0.05
#: A class point mass holds at least this many times the class's values of the nearest
#: value on either side: a spike (the credit card's frauds at $1.00: 22 of 100, against 1
#: at each neighbour), not the top of a smooth distribution (344 frauds' age 27: 19, against
#: 14 and 11), which a class's few rows reach 5 % at by chance.
SPIKE_RATIO = 2.0
#: A minority class gets mixture modes of its own in a column when more than this share of
#: its values lies beyond the reach of the whole column's modes (class modes, module doc).
OUT_OF_REACH_SHARE = 0.01
#: At most this many point masses per column (the most frequent ones).
MAX_POINT_MASSES = 5
#: A non-negative column whose values beside its point masses are more skewed than this
#: (sample skewness) gets its mixture fitted on ``log1p`` of them: a long tail becomes a
#: few modes instead of one wide mode that wastes the tanh range on the bulk.
LOG_SKEW = 2.0
#: An earlier date missing in more than this share of the rows that hold a later one is its
#: anchor only when no other earlier date is missing as seldom: its training median stands in
#: where it is missing, which widens the days learned (a test table: 2 % missing anchors
#: moved the synthetic stays' distance from 0.07 to 3.8 real standard deviations).
MAX_ANCHOR_MISSING = 0.01
#: Format of ``to_state``; bumped when the layout of the state changes (version 1 states,
#: without point masses or log scaling, version 2 states, without datetime formats, and
#: version 3 states, without anchored dates, still load).
STATE_VERSION = 4


@dataclass(frozen=True)
class _ColumnCodec:
    """How one column is encoded: either a level one-hot or a mixture of modes."""

    name: str
    kind: str
    dtype: str
    nullable: bool
    levels: tuple[Any, ...] = ()
    means: tuple[float, ...] = ()
    stds: tuple[float, ...] = ()
    point_masses: tuple[float, ...] = ()
    log: bool = False
    format: str | None = None
    anchor: str | None = None
    anchor_fill: float | None = None
    anchor_required: bool = False

    @property
    def is_modes(self) -> bool:
        return bool(self.means)

    @property
    def onehot_width(self) -> int:
        """Slots of the column's block: modes and point masses (or levels), then missing."""
        n = len(self.means) + len(self.point_masses) if self.is_modes else len(self.levels)
        return n + int(self.nullable)

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "nullable": self.nullable,
            "levels": list(self.levels),
            "means": list(self.means),
            "stds": list(self.stds),
            "point_masses": list(self.point_masses),
            "log": self.log,
            "format": self.format,
            "anchor": self.anchor,
            "anchor_fill": self.anchor_fill,
            "anchor_required": self.anchor_required,
        }


class TabularTransformer:
    """Fit on training rows, then ``transform`` to spans and ``inverse_transform`` back.

    Args:
        max_modes: most mixture components per continuous/integer column.
        max_onehot_levels: counts with more distinct levels are encoded like integers.
        fit_sample: mixture fits use at most this many values per column (seeded), which
            keeps fitting a 250,000-row table to seconds.
        seed: seed of that sample and of the mixture initialisation.
    """

    def __init__(
        self,
        max_modes: int = 10,
        max_onehot_levels: int = 64,
        fit_sample: int = 20_000,
        seed: int = 0,
    ):
        self.max_modes = max_modes
        self.max_onehot_levels = max_onehot_levels
        self.fit_sample = fit_sample
        self.seed = seed
        self._codecs: list[_ColumnCodec] | None = None
        self._layout: SpanLayout | None = None

    # ------------------------------------------------------------------ fitting
    def fit(self, df: pd.DataFrame, schema: Schema) -> TabularTransformer:
        """Learn levels and mixture modes of every feature column of ``schema`` from ``df``.

        ``df`` may hold ``schema.target``; its minority classes' values then also get modes
        and point masses of their own (class modes, module doc).
        """
        require_columns(df, schema.names, "rows to fit the transformer on")
        rng = np.random.default_rng(self.seed)
        classes = _minority_masks(df, schema)
        anchors = _anchors(df, schema)
        codecs, added = [], {}
        for spec in schema.columns:
            series = df[spec.name]
            # the training rows' own missing values: the schema's flag describes the whole
            # table, test split included, and nothing fitted may learn from that
            nullable = bool(series.isna().any())
            common = {"name": spec.name, "kind": spec.kind, "dtype": str(series.dtype),
                      "format": spec.format if spec.kind == "datetime" else None,
                      **anchors.get(spec.name, {})}
            series = _as_numbers(series, spec.kind, spec.format)
            if spec.name in anchors:
                series = series - _anchor_seconds(df, schema[common["anchor"]].format,
                                                  common["anchor"], common["anchor_fill"])
            if self._uses_modes(spec.kind, series):
                fitted, added[spec.name] = self._fit_modes(series, rng, classes)
                codecs.append(_ColumnCodec(**common, nullable=nullable, **fitted))
            else:
                levels = sorted_levels(series)
                codecs.append(_ColumnCodec(**common, nullable=nullable, levels=levels))
        self._set_codecs(codecs)
        if classes:
            _log_class_modes(added)
        return self

    def _uses_modes(self, kind: str, series: pd.Series) -> bool:
        if kind in ("continuous", "integer", "datetime"):
            return True
        return kind == "count" and series.nunique() > self.max_onehot_levels

    def _fit_modes(
        self, series: pd.Series, rng: np.random.Generator, classes: list[np.ndarray]
    ) -> tuple[dict[str, Any], tuple[int, int]]:
        """Point masses, log scaling and mixture modes of a numeric column: the whole
        column's, then each class's of ``classes`` (row masks) added (module doc). Also
        returns how many modes and point masses the classes added."""
        values = self._sample(series, rng)
        own = [self._sample(series[mask], rng) for mask in classes]
        class_masses = (_spikes(part, _point_masses(part, MIN_MODE_ROWS)) for part in own)
        whole = _point_masses(values)
        masses = tuple(sorted(set(whole).union(*class_masses)))
        rest = values[~np.isin(values, masses)]
        log = rest.size > 1 and rest.min() >= 0 and float(skew(rest)) > LOG_SKEW
        modes = [self._mixture(_scaled(rest, log), rng)]
        for class_values in own:
            part = _scaled(class_values[~np.isin(class_values, masses)], log)
            if _out_of_reach(part, *modes[0]) > OUT_OF_REACH_SHARE:
                modes.append(self._mixture(part, rng, min_rows=MIN_MODE_ROWS))
        means = np.concatenate([m for m, _ in modes])
        stds = np.concatenate([s for _, s in modes])
        order = np.argsort(means, kind="stable")
        fitted = {"means": tuple(means[order].tolist()), "stds": tuple(stds[order].tolist()),
                  "point_masses": masses, "log": bool(log)}
        return fitted, (means.size - len(modes[0][0]), len(masses) - len(whole))

    def _sample(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """The non-missing values of ``series``, at most ``fit_sample`` of them (seeded)."""
        values = series.dropna().to_numpy(dtype=np.float64)
        if values.size > self.fit_sample:
            values = rng.choice(values, self.fit_sample, replace=False)
        return values

    def _mixture(
        self, values: np.ndarray, rng: np.random.Generator, min_rows: int = 0
    ) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Means and standard deviations of a 1-D Gaussian mixture of ``values``, in order.
        With ``min_rows`` (a class's values): at most one component per
        :data:`ROWS_PER_MODE` values, none kept that stands for fewer than ``min_rows``."""
        if values.size == 0:
            return (0.0,), (1.0,)
        cap = max(values.size // ROWS_PER_MODE, 1) if min_rows else values.size
        n_modes = int(min(self.max_modes, np.unique(values).size, cap))
        if n_modes <= 1:
            return (float(values.mean()),), (_safe_std(values),)
        gmm = GaussianMixture(
            n_components=n_modes,
            covariance_type="diag",
            max_iter=100,
            reg_covar=1e-6 * max(values.var(), 1e-12),
            random_state=int(rng.integers(2**31 - 1)),
        ).fit(values[:, None])
        keep = gmm.weights_ >= max(MIN_MODE_WEIGHT, min_rows / values.size)
        order = np.argsort(gmm.means_[keep, 0])
        means = gmm.means_[keep, 0][order]
        stds = np.sqrt(gmm.covariances_[keep, 0])[order]
        floor = _safe_std(values) * 1e-3
        return tuple(float(m) for m in means), tuple(float(max(s, floor)) for s in stds)

    def _set_codecs(self, codecs: list[_ColumnCodec]) -> None:
        spans, offset = [], 0
        for codec in codecs:
            if codec.is_modes:
                spans.append(Span(codec.name, offset, 1, "tanh"))
                offset += 1
            spans.append(Span(codec.name, offset, codec.onehot_width, "softmax"))
            offset += codec.onehot_width
        self._codecs = codecs
        self._layout = SpanLayout(spans)

    # ---------------------------------------------------------------- properties
    @property
    def layout(self) -> SpanLayout:
        """The output spans models consume."""
        self._check_fitted()
        return self._layout  # type: ignore[return-value]

    @property
    def columns(self) -> list[str]:
        self._check_fitted()
        return [c.name for c in self._codecs]  # type: ignore[union-attr]

    @property
    def output_width(self) -> int:
        return self.layout.width

    # ------------------------------------------------------------ transforming
    def transform(self, df: pd.DataFrame, dtype: Any = np.float32) -> np.ndarray:
        """Encode ``df`` (the fitted columns; others are ignored) into a matrix of spans.

        Levels not seen in training encode as an all-zero block.
        """
        self._check_fitted()
        require_columns(df, self.columns, "rows to encode")
        out = np.zeros((len(df), self.layout.width), dtype=dtype)
        blocks = iter(self.layout)
        for codec in self._codecs:  # type: ignore[union-attr]
            values = _as_numbers(df[codec.name], codec.kind, codec.format)
            if codec.anchor is not None:
                values = values - _anchor_seconds(df, self._codec(codec.anchor).format,
                                                  codec.anchor, codec.anchor_fill)
            if codec.is_modes:
                scalar, block = next(blocks), next(blocks)
                offset, mode = _encode_modes(codec, values)
                out[:, scalar.start] = offset
            else:
                block = next(blocks)
                mode = _encode_levels(codec, values)
            rows = np.flatnonzero(mode >= 0)
            out[rows, block.start + mode[rows]] = 1.0
        return out

    def inverse_transform(self, matrix: np.ndarray) -> pd.DataFrame:
        """Decode a matrix of spans back to a frame with the original columns and dtypes.

        One-hot blocks are decoded by ``argmax``, so probabilities decode to the likeliest level.
        """
        self._check_fitted()
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != self.layout.width:
            raise DataValidationError(
                f"Expected a matrix of width {self.layout.width} (this transformer's layout), "
                f"got shape {matrix.shape}. Was it made by a generator fitted on other data?"
            )
        return self.decode(CodedRows.from_matrix(matrix, self.layout))

    def decode(
        self, coded: CodedRows, extra: Mapping[str, np.ndarray] | None = None
    ) -> pd.DataFrame:
        """Decode rows given as codes (a generator's ``sample_coded``) to the original schema.

        The fast path of :meth:`inverse_transform`: every column is one lookup or one
        affine map over a whole array. ``extra`` columns (e.g. the target) are appended
        while the frame is built: adding them afterwards would copy every column.
        """
        self._check_fitted()
        layout = self.layout
        shapes = (len(layout.scalar_spans), len(layout.onehot_spans))
        if (coded.scalars.shape[1], coded.levels.shape[1]) != shapes:
            raise DataValidationError(
                f"Expected codes for {shapes[0]} scalar and {shapes[1]} one-hot spans (this "
                f"transformer's layout), got {coded.scalars.shape[1]} and "
                f"{coded.levels.shape[1]}. Were they made by a generator fitted on other data?"
            )
        jobs, scalar_j = [], 0
        for block_j, codec in enumerate(self._codecs):  # type: ignore[arg-type]
            scalars = coded.scalars[:, scalar_j] if codec.is_modes else None
            scalar_j += codec.is_modes
            jobs.append((codec, coded.levels[:, block_j], scalars))
        columns = map_columns(lambda job: _decode_column(*job), jobs, len(coded))
        data = {codec.name: column for (codec, _, _), column in zip(jobs, columns, strict=True)}
        for codec in self._anchored():  # each after its anchor, whose date it adds to
            low = self._codec(codec.anchor)  # type: ignore[arg-type]
            base = _anchor_seconds(data, low.format, low.name, codec.anchor_fill,
                                   missing=np.nan if codec.anchor_required else None)
            seconds = data[codec.name].to_numpy(dtype=np.float64) + base
            data[codec.name] = pd.Series(from_seconds(seconds, codec.format, codec.dtype),
                                         copy=False)
        return pd.DataFrame({**data, **(extra or {})}, copy=False)

    def _codec(self, name: str) -> _ColumnCodec:
        return next(c for c in self._codecs if c.name == name)  # type: ignore[union-attr]

    def _anchored(self) -> list[_ColumnCodec]:
        """The anchored date columns, each after the column it is anchored to."""
        def depth(codec: _ColumnCodec) -> int:
            return 0 if codec.anchor is None else 1 + depth(self._codec(codec.anchor))
        anchored = [c for c in self._codecs if c.anchor is not None]  # type: ignore[union-attr]
        return sorted(anchored, key=depth)

    def fit_transform(self, df: pd.DataFrame, schema: Schema) -> np.ndarray:
        return self.fit(df, schema).transform(df)

    def summary(self) -> pd.DataFrame:
        """One row per column: its kind, how it is encoded, and its width in the model input.

        Returns:
            A frame with columns ``column``, ``kind``, ``encoding`` (in words: the modes and
            point masses of a mode-specific normalisation, or the levels of a one-hot block,
            plus a missing slot) and ``width`` (encoded columns; they sum to
            :attr:`output_width`).

        Raises:
            NotFittedError: the transformer is not fitted.
        """
        self._check_fitted()
        widths: dict[str, int] = {}
        for span in self.layout:
            widths[span.column] = widths.get(span.column, 0) + span.width
        return pd.DataFrame(
            [{"column": c.name, "kind": c.kind, "encoding": _encoding_in_words(c),
              "width": widths[c.name]} for c in self._codecs],  # type: ignore[union-attr]
            columns=["column", "kind", "encoding", "width"],
        )

    # ------------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """Plain-data state: lists, numbers and strings only."""
        self._check_fitted()
        return {
            "version": STATE_VERSION,
            "params": {
                "max_modes": self.max_modes,
                "max_onehot_levels": self.max_onehot_levels,
                "fit_sample": self.fit_sample,
                "seed": self.seed,
            },
            "columns": [c.to_state() for c in self._codecs],  # type: ignore[union-attr]
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TabularTransformer:
        """Rebuild a fitted transformer from :meth:`to_state` output."""
        try:
            if state["version"] > STATE_VERSION:
                raise ModelFileError(
                    f"Transformer state version {state['version']} is newer than this "
                    f"synthbalance understands ({STATE_VERSION}); upgrade synthbalance."
                )
            transformer = cls(**state["params"])
            codecs = [
                _ColumnCodec(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in col.items()}
                )
                for col in state["columns"]
            ]
        except (KeyError, TypeError) as exc:
            raise ModelFileError(
                f"Not a valid transformer state ({exc!r}); refit it with the preprocessing "
                "pipeline (kedro run --pipelines=preprocessing)."
            ) from exc
        transformer._set_codecs(codecs)
        return transformer

    def _check_fitted(self) -> None:
        if self._codecs is None:
            raise NotFittedError("The transformer is not fitted; call fit(df, schema) first.")


# ---------------------------------------------------------------------- helpers
def _out_of_reach(values: np.ndarray, means: tuple[float, ...], stds: tuple[float, ...]) -> float:
    """Share of (scaled) ``values`` more than ``MODE_SCALE`` standard deviations from their
    most likely mode: values a tanh offset cannot reach. 0 for no values."""
    if values.size == 0:
        return 0.0
    mu, sd = np.asarray(means), np.asarray(stds)
    mode = _likeliest_mode(values, mu, sd)
    return float((np.abs(values - mu[mode]) > MODE_SCALE * sd[mode]).mean())


def _scaled(values: np.ndarray, log: bool) -> np.ndarray:
    """``values`` on the scale their mixture is fitted on: ``log1p`` for a log-scaled column."""
    return np.log1p(np.maximum(values, 0.0)) if log else values


def _likeliest_mode(values: np.ndarray, means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    """Index of each value's most likely mode under equal weights: the weights barely move
    the argmax and leaving them out makes the encoding a function of (means, stds) alone."""
    return (-0.5 * ((values[:, None] - means) / stds) ** 2 - np.log(stds)).argmax(axis=1)


def _minority_masks(df: pd.DataFrame, schema: Schema) -> list[np.ndarray]:
    """Row masks of ``schema``'s minority classes in ``df`` (labels matched by the project's
    one rule, :func:`~synthbalance.core.tables.label_mask`); none without the target."""
    if schema.target not in df.columns:
        return []
    masks = [label_mask(df[schema.target], c) for c in schema.minority_classes]
    return [mask for mask in masks if mask.any()]


def _log_class_modes(added: Mapping[str, tuple[int, int]]) -> None:
    """Log which columns got class modes or class point masses in a fit: ``added`` maps
    each column encoded with modes to the (modes, point masses) its minority classes added."""
    words = []
    for name, (modes, masses) in added.items():
        counts = ((modes, "mode"), (masses, "point mass"))
        parts = [f"+{_counted(n, noun)}" for n, noun in counts if n]
        if parts:
            words.append(f"{name} ({' '.join(parts)})")
    logger.info(
        "Class modes: the minority classes' own values got modes or point masses in %d of "
        "the %d columns encoded with modes (continuous, integer, datetime)%s "
        "(preprocessing.class_modes; docs/column-kinds.md).",
        len(words), len(added), ": " + ", ".join(words) if words else "",
    )


def _counted(n: int, noun: str) -> str:
    """``1 mode``, ``2 point masses``."""
    return f"{n} {noun}{('es' if noun.endswith('s') else 's') * (n != 1)}"


def _encoding_in_words(codec: _ColumnCodec) -> str:
    """``mode-specific normalisation: 3 modes, 1 point mass, log scale`` or ``one-hot: 5
    levels``, with ``+ missing`` where the column has a missing slot."""
    if codec.is_modes:
        parts = [_counted(len(codec.means), "mode")]
        if codec.point_masses:
            parts.append(_counted(len(codec.point_masses), "point mass"))
        if codec.log:
            parts.append("log scale")
        words = "mode-specific normalisation: " + ", ".join(parts)
    else:
        words = f"one-hot: {len(codec.levels)} levels"
    if codec.anchor is not None:
        words += f", as seconds after {codec.anchor}"
    return words + (" + missing" if codec.nullable else "")


def _safe_std(values: np.ndarray) -> float:
    std = float(values.std())
    return std if std > 0 else 1.0


def _encode_levels(codec: _ColumnCodec, values: pd.Series) -> np.ndarray:
    """Index of each value in the codec's levels; the missing slot for NaN; -1 if unseen."""
    missing = values.isna().to_numpy()
    codes = pd.Categorical(values, categories=list(codec.levels)).codes.astype(np.int64)
    if codec.nullable:
        codes[missing] = len(codec.levels)
    return codes


def _point_masses(values: np.ndarray, min_rows: int = 1) -> tuple[float, ...]:
    """The values (at most :data:`MAX_POINT_MASSES`, most frequent first, then sorted) that
    each hold at least :data:`POINT_MASS_SHARE` of ``values`` and ``min_rows`` of them."""
    if values.size == 0:
        return ()
    distinct, counts = np.unique(values, return_counts=True)
    heavy = np.flatnonzero(counts >= max(POINT_MASS_SHARE * values.size, min_rows))
    top = heavy[np.argsort(-counts[heavy], kind="stable")][:MAX_POINT_MASSES]
    return tuple(float(v) for v in np.sort(distinct[top]))


def _spikes(values: np.ndarray, masses: tuple[float, ...]) -> tuple[float, ...]:
    """The ``masses`` that hold at least :data:`SPIKE_RATIO` times as many of ``values`` as
    the nearest distinct value below and the nearest above (a side without one counts 0)."""
    if not masses:
        return ()
    distinct, counts = np.unique(values, return_counts=True)
    padded = np.concatenate([[0], counts, [0]])
    at = np.searchsorted(distinct, masses)  # every mass is one of the values
    beside = np.maximum(padded[at], padded[at + 2])
    return tuple(m for m, n, b in zip(masses, counts[at], beside, strict=True)
                 if n >= SPIKE_RATIO * b)


def _encode_modes(codec: _ColumnCodec, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and slots of a numeric column: a point mass's own slot (offset 0), else the
    most likely mixture mode (of ``log1p`` values for a log-scaled column), else missing."""
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(x)
    means, stds = np.asarray(codec.means), np.asarray(codec.stds)
    masses = np.asarray(codec.point_masses, dtype=np.float64)
    mass = np.searchsorted(masses, x).clip(max=max(len(masses) - 1, 0))
    is_mass = (masses[mass] == x) if len(masses) else np.zeros(len(x), dtype=bool)
    filled = np.where(missing | is_mass, means[0], _scaled(x, codec.log))
    mode = _likeliest_mode(filled, means, stds)
    offset = (filled - means[mode]) / (MODE_SCALE * stds[mode])
    offset[missing | is_mass] = 0.0
    mode[is_mass] = len(means) + mass[is_mass]
    if codec.nullable:
        mode[missing] = len(means) + len(masses)
    return offset, mode


def _decode_column(
    codec: _ColumnCodec, code: np.ndarray, scalars: np.ndarray | None
) -> pd.Series:
    return _decode_levels(codec, code) if scalars is None else _decode_modes(codec, scalars, code)


def _decode_levels(codec: _ColumnCodec, code: np.ndarray) -> pd.Series:
    code = code.astype(np.intp)  # numpy widens narrow indices per element: 2x slower lookups
    if _numpy_kind(codec.dtype) in {"b", "i", "u", "f"}:
        # Numbers and booleans: one typed lookup (NaN in the missing slot).
        if not codec.nullable:
            return pd.Series(np.asarray(codec.levels, dtype=codec.dtype)[code], copy=False)
        levels = np.asarray([*codec.levels, np.nan], dtype=np.float64)
        return _restored(levels[code], codec)
    levels = np.array(list(codec.levels) + ([None] if codec.nullable else []), dtype=object)
    return _restored(levels[code], codec)


def _numpy_kind(name: str) -> str:
    """The numpy kind character of a dtype name; "" for pandas extension dtypes."""
    try:
        return np.dtype(name).kind
    except TypeError:  # "Int64", "category", "string", ...
        return ""


def _decode_modes(codec: _ColumnCodec, offset: np.ndarray, code: np.ndarray) -> pd.Series:
    means, stds = np.asarray(codec.means), np.asarray(codec.stds)
    masses = np.asarray(codec.point_masses, dtype=np.float64)
    n, m = len(means), len(masses)
    safe = np.minimum(code, n - 1)
    x = offset.astype(np.float64) * MODE_SCALE * stds[safe] + means[safe]
    if codec.log:
        x = np.expm1(x)
    if codec.kind != "continuous":
        x = np.round(x)
    if m:
        is_mass = (code >= n) & (code < n + m)
        x[is_mass] = masses[code[is_mass] - n]
    x[code >= n + m] = np.nan
    return _restored(x, codec)


def _as_numbers(series: pd.Series, kind: str, fmt: str | None) -> pd.Series:
    """A datetime column as seconds since the epoch; any other column as it is."""
    if kind != "datetime":
        return series
    return pd.Series(to_seconds(series, fmt), index=series.index, name=series.name)


def _anchors(df: pd.DataFrame, schema: Schema) -> dict[str, dict[str, Any]]:
    """Per anchored date column of ``df``: the date column it is anchored to (``anchor``, of
    its order rules the one nearest by median, among those missing in at most
    :data:`MAX_ANCHOR_MISSING` of the rows holding the date if any is), that column's median seconds
    (``anchor_fill``), which stand in where it is missing, and whether no row holds the
    date without the anchor (``anchor_required``)."""
    seconds = date_seconds(df, [s for s in schema.columns if s.kind == "datetime"])
    rules = find_order_rules(seconds)
    out = {}
    for high in dict.fromkeys(r.high for r in rules):
        present = ~np.isnan(seconds[high])
        low = min((r.low for r in rules if r.high == high),
                  key=lambda name, h=high, p=present: _anchor_rank(seconds, h, name, p))
        alone = np.isnan(seconds[low]) & present
        out[high] = {"anchor": low, "anchor_fill": float(np.nanmedian(seconds[low])),
                     "anchor_required": not bool(alone.any())}
    return out


def _anchor_rank(seconds: Mapping[str, np.ndarray], high: str, low: str,
                 present: np.ndarray) -> tuple[bool, float]:
    """How ``low`` ranks as ``high``'s anchor, lowest first: missing in more than
    :data:`MAX_ANCHOR_MISSING` of the rows holding ``high`` (``present``), then the median
    seconds between them."""
    missing = float(np.isnan(seconds[low][present]).mean())
    return missing > MAX_ANCHOR_MISSING, float(np.nanmedian(seconds[high] - seconds[low]))


def _anchor_seconds(rows: Mapping[str, Any], fmt: str | None, name: str,
                    fill: float | None, missing: float | None = None) -> np.ndarray:
    """Seconds since the epoch of the anchor column ``name`` of ``rows``; where it is
    missing, ``missing`` if given (NaN: the anchored date is missing too), else ``fill``."""
    seconds = to_seconds(pd.Series(rows[name]), fmt)
    stand_in = missing if missing is not None else np.nan if fill is None else fill
    return np.where(np.isnan(seconds), stand_in, seconds)


def _restored(values: np.ndarray, codec: _ColumnCodec) -> pd.Series:
    """A decoded column in its training dtype (:func:`~synthbalance.core.values.restore_dtype`);
    a datetime column's seconds in its format or dtype (an anchored one's stay seconds after
    its anchor, which :meth:`TabularTransformer.decode` adds)."""
    if codec.anchor is not None:
        return pd.Series(values, copy=False)
    if codec.kind == "datetime":
        return pd.Series(from_seconds(values, codec.format, codec.dtype), copy=False)
    return pd.Series(restore_dtype(values, codec.dtype, codec.levels), copy=False)
