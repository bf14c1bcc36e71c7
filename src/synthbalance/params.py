"""The parameter schema: every key a user may set, its type and its default.

Each ``parameters_<pipeline>.yml`` block is parsed into a frozen dataclass. An unknown key
(``trainig.model``, ``training.epcohs``) or a value of the wrong type fails at once, naming the
key, a close match and the valid keys: a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthbalance.core.errors import ConfigError
from synthbalance.core.sampling import PRECISIONS, SAMPLE_BATCH

#: pandas reader options a user may pass through ``ingest.read_options``.
READ_OPTIONS = frozenset(
    {"sep", "na_values", "keep_default_na", "encoding", "decimal", "thousands", "usecols",
     "nrows", "compression", "skiprows", "comment", "columns", "quotechar"}
)
STRATEGIES = ("per_class", "conditional")
SECTIONS = (
    "seed", "ingest", "profiling", "preprocessing", "training",
    "sampling", "postprocessing", "evaluation",
)


def _unknown_key_error(section: str, key: str, valid: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" Did you mean '{section}.{close[0]}'?" if close else ""
    return ConfigError(
        f"Unknown parameter '{section}.{key}'.{hint} Valid keys of '{section}': "
        f"{', '.join(sorted(valid))}."
    )


def _check_type(section: str, name: str, value: Any, annotation: Any) -> None:
    allowed = _allowed_types(annotation)
    if allowed is None:
        return
    ok = isinstance(value, allowed)
    if isinstance(value, bool) and bool not in allowed:
        ok = False  # bool is an int to Python, never to a user
    elif not ok and float in allowed and isinstance(value, int):
        ok = True
    if ok:
        return
    names = " or ".join(sorted({"null" if t is type(None) else t.__name__ for t in allowed}))
    raise ConfigError(
        f"Parameter '{section}.{name}' must be {names}, got {value!r} "
        f"({type(value).__name__}). Fix it in conf/base/parameters_{section}.yml or --params."
    )


def _allowed_types(annotation: Any) -> tuple[type, ...] | None:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arg in typing.get_args(annotation):
            sub = _allowed_types(arg)
            if sub is None:
                return None
            out.extend(sub)
        return tuple(out)
    if annotation is Any:
        return None
    if annotation is type(None):
        return (type(None),)
    base = origin or annotation
    if base in (list, tuple):
        return (list, tuple)
    if base in (dict, Mapping):
        return (dict, Mapping)
    return (base,) if isinstance(base, type) else None


class _Section:
    """Mixin: build a frozen dataclass from a mapping, rejecting unknown keys and bad types."""

    section: typing.ClassVar[str]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Any:
        data = dict(data or {})
        hints = typing.get_type_hints(cls)
        valid = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key, value in data.items():
            if key not in valid:
                raise _unknown_key_error(cls.section, key, valid)
            _check_type(cls.section, key, value, hints[key])
        obj = cls(**data)
        obj.check()
        return obj

    def check(self) -> None:
        """Cross-field checks; subclasses override."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def _positive(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"Parameter '{self.section}.{name}' must be > 0, got {value}.")


@dataclass(frozen=True)
class IngestParams(_Section):
    """Where the raw table comes from and how to read and validate it."""

    section: typing.ClassVar[str] = "ingest"
    source: str = "demo"
    target: str | None = None
    dataset_name: str | None = None
    format: str | None = None
    read_options: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    minority_classes: list | None = None
    min_class_rows: int = 20
    drop_columns: list = field(default_factory=list)
    demo_rows: int = 20_000

    def check(self) -> None:
        self._positive("min_class_rows", "demo_rows")
        unknown = sorted(set(self.read_options) - READ_OPTIONS)
        if unknown:
            raise ConfigError(
                f"Unknown reader option(s) ingest.read_options.{unknown[0]}; "
                f"valid: {', '.join(sorted(READ_OPTIONS))}."
            )
        if self.format not in (None, "csv", "parquet"):
            raise ConfigError(f"ingest.format is {self.format!r}; use csv, parquet or null.")
        if self.source != "demo" and not self.target:
            raise ConfigError(
                f"ingest.source is {self.source!r} but ingest.target is not set; name the "
                "label column, e.g. --params=\"ingest.target=label\"."
            )

    @property
    def name(self) -> str:
        """The dataset's name for MLflow tags: ``dataset_name``, else the file's stem."""
        if self.dataset_name:
            return self.dataset_name
        if self.source == "demo":
            return "demo"
        stem = self.source.rstrip("/").rsplit("/", 1)[-1]
        return stem.split(".", 1)[0] or "table"


@dataclass(frozen=True)
class ProfilingParams(_Section):
    """ydata-profiling settings: minimal mode and a row sample keep big tables to a minute."""

    section: typing.ClassVar[str] = "profiling"
    minimal: bool = True
    sample_rows: int | None = 20_000
    title: str | None = None

    def check(self) -> None:
        self._positive("sample_rows")


@dataclass(frozen=True)
class PreprocessingParams(_Section):
    """Split, scarce cut and transformer settings."""

    section: typing.ClassVar[str] = "preprocessing"
    test_size: float = 0.3
    scarce_minority_rows: int | None = None
    max_modes: int = 10
    max_onehot_levels: int = 64
    fit_sample: int = 20_000

    def check(self) -> None:
        if not 0.0 < self.test_size < 1.0:
            raise ConfigError(f"preprocessing.test_size must lie in (0, 1), got {self.test_size}.")
        self._positive("scarce_minority_rows", "max_modes", "max_onehot_levels", "fit_sample")


@dataclass(frozen=True)
class SamplingParams(_Section):
    """How many synthetic rows per minority class: ``n_rows``, else ``ratio`` x real rows."""

    section: typing.ClassVar[str] = "sampling"
    n_rows: int | None = None
    ratio: float = 2.0
    batch_size: int = SAMPLE_BATCH
    precision: str = "auto"

    def check(self) -> None:
        self._positive("n_rows", "ratio", "batch_size")
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"sampling.precision is {self.precision!r}; use one of {', '.join(PRECISIONS)}."
            )


@dataclass(frozen=True)
class PostprocessingParams(_Section):
    """Which cleaning rules run on synthetic rows."""

    section: typing.ClassVar[str] = "postprocessing"
    clip: bool = True
    round: bool = True
    snap: bool = True
    restore_missing: bool = True


@dataclass(frozen=True)
class EvaluationParams(_Section):
    """Fidelity, detection, utility and privacy settings."""

    section: typing.ClassVar[str] = "evaluation"
    seeds: int = 3
    k_ratios: list = field(default_factory=lambda: [0.25, 0.5, 1.0, 2.0])
    headline_ratio: float = 1.0
    smote: bool = True
    n_trees: int = 300
    max_rows: int = 20_000
    n_jobs: int = 2
    compare_profile: bool = True
    compare_sample_rows: int = 5_000

    def check(self) -> None:
        self._positive("seeds", "headline_ratio", "n_trees", "max_rows", "n_jobs")
        if not self.k_ratios or any(
            not isinstance(k, int | float) or k <= 0 for k in self.k_ratios
        ):
            raise ConfigError(
                f"evaluation.k_ratios must be a non-empty list of positive numbers, "
                f"got {self.k_ratios!r}."
            )


@dataclass(frozen=True)
class TrainingParams(_Section):
    """Which generator family and strategy; the rest is the generator's own config.

    Keys other than the ones below are generator hyper-parameters (``epochs``,
    ``batch_size``, ...), checked by :class:`~synthbalance.core.models.GeneratorConfig`.
    """

    section: typing.ClassVar[str] = "training"
    model: str = "wcgan_gp"
    strategy: str = "conditional"
    check_fraction: float = 0.2
    check_max_rows: int = 2_000
    generator: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainingParams:
        from synthbalance.core.models import GeneratorConfig

        own = {f.name for f in dataclasses.fields(cls)} - {"generator"}
        hyper = {f.name for f in dataclasses.fields(GeneratorConfig)}
        data = dict(data or {})
        for key in data:
            if key not in own | hyper:
                raise _unknown_key_error(cls.section, key, sorted(own | hyper))
        generator = {k: data.pop(k) for k in list(data) if k in hyper}
        return super().from_dict({**data, "generator": generator})

    def check(self) -> None:
        from synthbalance.core.models import CONDITIONAL_MODELS, MODEL_NAMES, GeneratorConfig

        if self.model not in MODEL_NAMES:
            close = difflib.get_close_matches(self.model, MODEL_NAMES, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                f"training.model is {self.model!r}.{hint} Use one of {', '.join(MODEL_NAMES)}."
            )
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"training.strategy is {self.strategy!r}; use per_class or conditional."
            )
        conditional = self.model in CONDITIONAL_MODELS
        if conditional != (self.strategy == "conditional"):
            need = "conditional" if conditional else "per_class"
            kind = "a conditional" if conditional else "an unconditional"
            raise ConfigError(
                f"training.model={self.model} is {kind} family, so it needs "
                f"training.strategy={need} (got {self.strategy}). Conditional families "
                f"(cgan, wcgan_gp, cvae) learn all classes at once; unconditional ones "
                f"(gan, wgan_gp, vae) are trained per class."
            )
        if not 0.0 <= self.check_fraction < 1.0:
            raise ConfigError("training.check_fraction must lie in [0, 1).")
        try:
            GeneratorConfig.from_dict(self.generator)
        except ConfigError as exc:
            raise ConfigError(f"In parameters 'training': {exc}") from None

    @property
    def generator_config(self) -> Any:
        from synthbalance.core.models import GeneratorConfig

        return GeneratorConfig.from_dict(self.generator)


@dataclass(frozen=True)
class Params:
    """All parameters of a run, parsed and checked."""

    seed: int
    ingest: IngestParams
    profiling: ProfilingParams
    preprocessing: PreprocessingParams
    training: TrainingParams
    sampling: SamplingParams
    postprocessing: PostprocessingParams
    evaluation: EvaluationParams


_SECTION_CLASSES: dict[str, type[_Section]] = {
    "ingest": IngestParams,
    "profiling": ProfilingParams,
    "preprocessing": PreprocessingParams,
    "training": TrainingParams,
    "sampling": SamplingParams,
    "postprocessing": PostprocessingParams,
    "evaluation": EvaluationParams,
}


def parse_params(params: Mapping[str, Any]) -> Params:
    """Check every top-level key and every section; raise ConfigError on the first problem."""
    for key in params:
        if key not in SECTIONS:
            close = difflib.get_close_matches(key, SECTIONS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                f"Unknown parameter '{key}'.{hint} Top-level parameters are "
                f"{', '.join(SECTIONS)}."
            )
    seed = params.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"Parameter 'seed' must be a non-negative integer, got {seed!r}.")
    sections = {name: cls.from_dict(params.get(name)) for name, cls in _SECTION_CLASSES.items()}
    return Params(seed=seed, **sections)
