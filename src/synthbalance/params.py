"""The parameter schema: every key a user may set, its type and its default.

One pydantic model per ``parameters_<pipeline>.yml`` block, all built on
:class:`~synthbalance.core.config.Settings` (``extra="forbid"``, strict types). The training
section *is* the generator's :class:`~synthbalance.core.config.GeneratorConfig` plus the
keys that choose the family, so a new generator setting is checked as soon as it exists. An
unknown key (``trainig.model``, ``training.epcohs``, ``ingest.columns.x.bound``) or a value
of the wrong type fails at once, naming the key in full, what was given, what is allowed,
a close match and the file to fix: a typo never silently falls back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pandas.api.types import pandas_dtype
from pydantic import Field, field_validator, model_validator

from synthbalance.core.config import (
    CONDITIONAL_MODELS,
    MODEL_NAMES,
    STRATEGIES_BY_MODEL,
    GeneratorConfig,
    Number,
    PositiveInt,
    Settings,
)
from synthbalance.core.errors import ConfigError
from synthbalance.core.sampling import (
    MAX_OVERSAMPLE,
    PRECISIONS,
    SAMPLE_BATCH,
    check_oversample,
)
from synthbalance.core.schema import ColumnHint
from synthbalance.core.split import training_rows_needed

STRATEGIES = ("per_class", "conditional")
SECTIONS = (
    "seed", "ingest", "profiling", "preprocessing", "training",
    "sampling", "postprocessing", "evaluation", "grid", "dask_client",
)
Share = Annotated[Number, Field(gt=0, lt=1)]
Positive = Annotated[Number, Field(gt=0)]


class Section(Settings):
    """A block of the parameters files; messages say which file holds the key."""

    @classmethod
    def fix_for(cls, section: str) -> str:
        file = f"parameters_{section}.yml" if section in SECTIONS[1:] else "parameters.yml"
        return f" Fix it in conf/base/{file} or with --params."


class ReadOptions(Section):
    """pandas reader options a user may pass through ``ingest.read_options``."""

    where: ClassVar[str] = "ingest.read_options"

    sep: str | None = None
    na_values: Any = None
    keep_default_na: bool | None = None
    encoding: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    usecols: list[Any] | None = None
    nrows: PositiveInt | None = None
    compression: Any = None
    skiprows: Any = None
    comment: str | None = None
    columns: list[Any] | None = None
    quotechar: str | None = None
    dtype: str | dict[str, str] | None = None

    @field_validator("dtype")
    @classmethod
    def _pandas_dtypes(cls, dtype: str | dict[str, str] | None) -> Any:
        """Each name must be one pandas knows (``str``, ``int64``, ``category``, ...)."""
        for name in [dtype] if isinstance(dtype, str) else (dtype or {}).values():
            try:
                pandas_dtype(name)
            except TypeError:
                raise ValueError(
                    f"is {dtype!r}; {name!r} is not a pandas dtype. Use str to keep a column "
                    "as text as written (zip: str), or int64, float64, category, boolean."
                ) from None
        return dtype
    on_bad_lines: Literal["error", "warn", "skip"] | None = None

    @field_validator("sep", "decimal", "thousands", mode="before")
    @classmethod
    def _a_character(cls, value: Any, info: Any) -> Any:
        """``--params`` splits on commas: ``decimal=,`` arrives empty, ``decimal=\\,`` (old
        Kedro split) as a backslash; pandas would take either without a word."""
        if value in (None, "", "\\"):
            raise ValueError(
                f"is {value!r}, no character. On the command line a comma separates "
                f"parameters, so '{info.field_name}=,' loses its comma: quote it, --params "
                f"\"ingest.read_options.{info.field_name}=','\", or set it in YAML."
            )
        return value

    def pandas_options(self) -> dict[str, Any]:
        """The options the user set, as keyword arguments of the pandas reader."""
        return self.model_dump(exclude_unset=True)


class IngestParams(Section):
    """Where the raw table comes from and how to read and validate it."""

    where: ClassVar[str] = "ingest"

    source: str = "demo"
    target: str | None = None
    dataset_name: str | None = None
    format: Literal["csv", "parquet"] | None = None
    read_options: ReadOptions = ReadOptions()
    columns: dict[str, ColumnHint] = {}
    minority_classes: list[Any] | None = None
    min_class_rows: PositiveInt = 20
    drop_columns: list[str] = []
    demo_rows: PositiveInt = 20_000

    @model_validator(mode="after")
    def _target_for_a_file(self) -> IngestParams:
        if self.source != "demo" and not self.target:
            raise ConfigError(
                f"ingest.source is {self.source!r} but ingest.target is not set; name the "
                "label column, e.g. --params=\"ingest.target=label\"."
            )
        return self

    @property
    def name(self) -> str:
        """The dataset's name for MLflow tags: ``dataset_name``, else the file's stem."""
        if self.dataset_name:
            return self.dataset_name
        if self.source == "demo":
            return "demo"
        stem = self.source.rstrip("/").rsplit("/", 1)[-1]
        return stem.split(".", 1)[0] or "table"


class ProfilingParams(Section):
    """ydata-profiling settings: minimal mode and a row sample keep big tables to a minute."""

    where: ClassVar[str] = "profiling"

    minimal: bool = True
    sample_rows: PositiveInt | None = 20_000
    title: str | None = None


class PreprocessingParams(Section):
    """Split, scarce cut and transformer settings."""

    where: ClassVar[str] = "preprocessing"

    test_size: Share = 0.3
    validation_size: Share = 0.2
    scarce_minority_rows: PositiveInt | None = None
    max_modes: PositiveInt = 10
    max_onehot_levels: PositiveInt = 64
    fit_sample: PositiveInt = 20_000
    class_modes: bool = True

    @model_validator(mode="after")
    def _scarce_cut_leaves_enough(self) -> PreprocessingParams:
        keep = self.scarce_minority_rows
        needed = training_rows_needed(self.validation_size)
        if keep is not None and keep < needed:
            raise ConfigError(
                f"preprocessing.scarce_minority_rows={keep} keeps too few minority rows: with "
                f"preprocessing.validation_size={self.validation_size} the kept rows need at "
                f"least one validation row and two fitting rows (SMOTE). Keep at least "
                f"{needed} rows, or leave it unset.{self.fix_for('preprocessing')}"
            )
        return self


class SamplingParams(Section):
    """How many synthetic rows per minority class: ``n_rows``, else ``ratio`` x real rows.

    ``batch_size`` rows are generated per forward pass, each batch from its own random
    stream seeded from the seed and the batch's index: one seed gives the same rows for
    the same ``batch_size``, and other rows (from the same distribution) for another.
    ``oversample`` draws are made per kept row and the kept rows are chosen by importance
    resampling against the real rows of the class (:mod:`synthbalance.core.reweight`);
    ``"auto"``: :data:`~synthbalance.core.sampling.AUTO_OVERSAMPLE` draws, 1 (none) for a
    generator trained with DP.
    """

    where: ClassVar[str] = "sampling"

    n_rows: PositiveInt | None = None
    ratio: Positive = 2.0
    batch_size: PositiveInt = SAMPLE_BATCH
    precision: Literal[PRECISIONS] = "auto"  # type: ignore[valid-type]
    oversample: Annotated[int, Field(ge=1, le=MAX_OVERSAMPLE)] | Literal["auto"] = Field(
        "auto", description=f"a whole number of draws per kept row from 1 (no reweighting) "
        f"to {MAX_OVERSAMPLE}, or 'auto'")


class PostprocessingParams(Section):
    """Which cleaning rules run on synthetic rows."""

    where: ClassVar[str] = "postprocessing"

    clip: bool = True
    round: bool = True
    decimals: bool = True
    snap: bool = True
    restore_missing: bool = True
    missing_together: bool = True
    order: bool = True


class EvaluationParams(Section):
    """Fidelity, detection, utility and privacy settings."""

    where: ClassVar[str] = "evaluation"

    seeds: PositiveInt = 3
    k_ratios: Annotated[list[Positive], Field(min_length=1)] = [0.25, 0.5, 1.0, 2.0]
    headline_ratio: Positive = 1.0
    smote: bool = True
    n_trees: PositiveInt = 300
    max_rows: PositiveInt = 20_000
    n_jobs: PositiveInt = 2
    n_bootstrap: PositiveInt = 500
    deployment_prevalence: Annotated[
        Share | dict[str | int, Share] | None,
        Field(description="a share between 0 and 1 (e.g. 0.02), or a mapping of minority "
                          "classes to shares ({1: 0.02})"),
    ] = None
    compare_profile: bool = True
    compare_sample_rows: PositiveInt = 5_000


class TrainingParams(Section, GeneratorConfig):
    """Which generator family and strategy, plus every generator setting of
    :class:`~synthbalance.core.config.GeneratorConfig` at the same level
    (``training.epochs``, ``training.batch_size``, ...)."""

    where: ClassVar[str] = "training"
    noun: ClassVar[str] = "parameter"

    model: Literal[MODEL_NAMES] = "cvae"  # type: ignore[valid-type]
    strategy: Literal[STRATEGIES] = "conditional"  # type: ignore[valid-type]
    check_max_rows: PositiveInt = 2_000
    # conf/base's budget (a key left out of every parameters file gets it too); the core's
    # GeneratorConfig keeps fixed epochs for the Python API
    epochs: PositiveInt | Literal["auto"] = "auto"
    check_every: PositiveInt | Literal["auto"] = "auto"
    patience: PositiveInt | None = 3

    @model_validator(mode="after")
    def _strategy_fits_the_family(self) -> TrainingParams:
        allowed = STRATEGIES_BY_MODEL[self.model]
        if self.strategy not in allowed:
            kind = "a conditional" if self.model in CONDITIONAL_MODELS else "an unconditional"
            raise ConfigError(
                f"training.model={self.model} is {kind} family, so it needs "
                f"training.strategy={allowed[0]} (got {self.strategy}). Conditional families "
                f"(cgan, wcgan_gp, cvae) learn all classes at once; unconditional ones "
                f"(gan, wgan_gp, vae) are trained per class; ddpm does either."
            )
        return self

    @property
    def generator_config(self) -> GeneratorConfig:
        """The generator settings of this section, as the core's typed config."""
        return GeneratorConfig(**{k: getattr(self, k) for k in GeneratorConfig.model_fields})


class GridParams(Section):
    """The comparison grid (``kedro run --pipelines=grid``): families x strategies x seeds.

    ``models``: the families, default all seven. ``strategies``: ``default`` (each family's
    default strategy), ``all`` (every strategy each family supports) or a mapping of a family
    to its strategies (families left out get their default). ``seeds``: the cells' seeds
    (training, sampling, cleaning, evaluation), default ``[seed]``; the split always uses
    the run's ``seed``, so every cell sees the same rows.
    """

    where: ClassVar[str] = "grid"

    models: list[str] = list(MODEL_NAMES)
    strategies: Literal["default", "all"] | dict[str, list[str]] = "default"
    seeds: list[Annotated[int, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _known_names(self) -> GridParams:
        fix = self.fix_for("grid")
        unknown = [m for m in [*self.models, *self._mapping()] if m not in MODEL_NAMES]
        if unknown or not self.models:
            raise ConfigError(
                f"grid.models names {sorted(set(unknown)) or 'no family'}; choose from "
                f"{', '.join(MODEL_NAMES)} (grid.strategies keys too).{fix}")
        for model, strategies in self._mapping().items():
            bad = [s for s in strategies if s not in STRATEGIES_BY_MODEL[model]] or (
                [] if strategies else ["(none)"])
            if bad:
                raise ConfigError(
                    f"grid.strategies.{model} is {strategies}; {model} supports "
                    f"{', '.join(STRATEGIES_BY_MODEL[model])}.{fix}")
        return self

    def _mapping(self) -> dict[str, list[str]]:
        return self.strategies if isinstance(self.strategies, dict) else {}

    def cells(self, seed: int) -> list[tuple[str, str, int]]:
        """Every ``(model, strategy, seed)`` of the grid, in order (``seed``: the run's)."""
        def chosen(model: str) -> tuple[str, ...]:
            if self.strategies == "all":
                return STRATEGIES_BY_MODEL[model]
            return tuple(self._mapping().get(model, STRATEGIES_BY_MODEL[model][:1]))
        seeds = self.seeds if self.seeds is not None else [seed]
        return [(m, s, n) for m in dict.fromkeys(self.models) for s in chosen(m)
                for n in dict.fromkeys(seeds)]


class DaskClientParams(Section):
    """Where ``synthbalance.runners.DaskRunner`` runs: ``address`` of an existing Dask
    scheduler (``conf/dask``), else a local cluster of ``n_workers`` processes with
    ``threads_per_worker`` threads; ``torch_threads``: torch threads per worker (default:
    ``threads_per_worker``, or 1 on a scheduler's workers)."""

    where: ClassVar[str] = "dask_client"

    address: str | None = None
    n_workers: PositiveInt = 2
    threads_per_worker: PositiveInt = 1
    processes: bool = True
    torch_threads: PositiveInt | None = None


class Params(Section):
    """All parameters of a run, parsed and checked."""

    seed: Annotated[int, Field(ge=0)] = 42
    ingest: IngestParams = IngestParams()
    profiling: ProfilingParams = ProfilingParams()
    preprocessing: PreprocessingParams = PreprocessingParams()
    training: TrainingParams = TrainingParams()
    sampling: SamplingParams = SamplingParams()
    postprocessing: PostprocessingParams = PostprocessingParams()
    evaluation: EvaluationParams = EvaluationParams()
    grid: GridParams = GridParams()
    dask_client: DaskClientParams = DaskClientParams()

    @model_validator(mode="after")
    def _no_resampling_under_dp(self) -> Params:
        """Refuse ``sampling.oversample`` above 1 with ``training.privacy`` before anything
        trains (the sampling stage would refuse it after training)."""
        check_oversample(self.sampling.oversample, self.training.privacy is not None)
        return self

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """A section left empty in YAML (``sampling:``) reads as ``None``: its defaults."""
        if isinstance(data, Mapping):
            return {k: {} if v is None and k != "seed" else v for k, v in data.items()}
        return data


def parse_params(params: Mapping[str, Any]) -> Params:
    """Check every key of every section; raise one ConfigError naming each problem."""
    return Params.from_dict(params)
