"""Each method of the benchmark, run the way its users would run it, timed on the way.

A method gets one setting's :class:`~benchmarks._data.Prepared` data and a
:class:`RunSpec`, and returns its postprocessed synthetic minority rows (a generator: a pool
of ``pool_ratio`` x the minority training rows, from which each utility seed adds k; SMOTE:
the k rows of seed 0) plus its timings. Every method's rows go through the
same :func:`~synthbalance.core.postprocess.postprocess`, fitted on the setting's training
rows, and are then evaluated identically (``benchmarks._evaluate``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from benchmarks._data import DAY_COUNTS, Prepared
from synthbalance.core.config import MODEL_NAMES, STRATEGIES_BY_MODEL, GeneratorConfig
from synthbalance.core.models.callbacks import EpochTimer
from synthbalance.core.postprocess import PostprocessStats, fit_postprocess, fix_totals, postprocess
from synthbalance.core.schema import DISCRETE_KINDS
from synthbalance.core.smote import smote_rows
from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer
from synthbalance.core.transformer import TabularTransformer

FAMILIES: tuple[str, ...] = MODEL_NAMES
PEERS: tuple[str, ...] = ("smote", "ctgan")
METHODS: tuple[str, ...] = (*FAMILIES, *PEERS)
#: How CTGAN is told which columns are discrete: the schema's binary, categorical and
#: ordinal columns (a careful user), or none, so every float is continuous.
CTGAN_DISCRETE = ("schema", "none")
SEED = 0
T = TypeVar("T")


@dataclass(frozen=True)
class RunSpec:
    """One method in one setting; plain data, so it travels to a worker as JSON."""

    data: str
    setting: str
    method: str
    epochs: int
    seeds: int
    trees: int
    k_ratio: float
    speed_rows: int
    ctgan_speed_rows: int
    threads: int
    rows: int | None = None
    scarce_rows: int | None = None
    ctgan_discrete: str = "schema"
    pool_ratio: float = 2.0
    train_seed: int = SEED
    #: False for a repeat with another training seed: its quality and utility are
    #: evaluated, its speed is not measured again (the table's speed is the first seed's).
    measure_speed: bool = True

    def headline_k(self, data: Prepared) -> int:
        return max(1, round(self.k_ratio * data.n_minority_train))

    def pool_rows(self, data: Prepared) -> int:
        """Rows a generator samples for evaluation: more than k, so that every utility
        seed adds a different k of them (as the pipeline's ``sampling.ratio`` 2 does)."""
        return max(self.headline_k(data), round(self.pool_ratio * data.n_minority_train))


@dataclass
class MethodRun:
    """A method's clean rows and what was measured while making them."""

    rows: pd.DataFrame
    measured: dict[str, Any] = field(default_factory=dict)


def run_method(data: Prepared, spec: RunSpec) -> MethodRun:
    """Dispatch on ``spec.method``: one of :data:`METHODS`."""
    if spec.method in FAMILIES:
        return run_family(data, spec)
    if spec.method == "smote":
        return run_smote(data, spec)
    if spec.method == "ctgan":
        return run_ctgan(data, spec)
    raise ValueError(f"Unknown method {spec.method!r}; use one of {', '.join(METHODS)}.")


def timed(func: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


#: Calls of sample + decode + postprocess per method; the median is reported, so up to two
#: slow calls (a fresh process's first calls grow its heap; a spike of other load) do not
#: decide it. The first call's rate is reported as well.
SPEED_REPEATS = 5

# --------------------------------------------------------------------------- ours


def run_family(data: Prepared, spec: RunSpec) -> MethodRun:
    """Train one of our seven families as the training pipeline does, then sample and clean.

    Per-class families learn the minority rows only; conditional ones every training row.
    The transformer used is fitted on the training rows (as in the pipeline); a second fit
    on the whole table is timed only, for the "transformer fit on all rows" figure.
    """
    schema = data.schema
    _, fit_all_s = timed(lambda: TabularTransformer(seed=SEED).fit(data.table, schema))
    transformer = TabularTransformer(seed=SEED).fit(data.train, schema)
    encoded = transformer.transform(data.train)
    conditional = STRATEGIES_BY_MODEL[spec.method][0] == "conditional"
    timer = EpochTimer()  # first callback: the periodic checks are not training time
    config = GeneratorConfig(
        epochs=spec.epochs,
        check_every=max(1, spec.epochs // 5),
        device="cpu",
        num_threads=spec.threads,
    )
    plan = TrainingPlan(model=spec.method, config=config, seed=spec.train_seed,
                        class_value=None if conditional else data.minority)
    synth, fit_s = timed(lambda: train_synthesizer(
        data.train, encoded, transformer, schema, plan, progress=False, callbacks=[timer],
        validation=data.validation))
    stats = fit_postprocess(data.train, schema)
    rows, fixes = clean_rows(synth.sample(spec.pool_rows(data), label=data.minority, seed=1),
                         stats, data)
    measured = {
        "strategy": "conditional" if conditional else "per_class",
        "train_seed": spec.train_seed,
        "s_per_epoch": statistics.median(timer.seconds),
        "s_per_epoch_mean": statistics.mean(timer.seconds),
        "epoch_rows": timer.n_rows,
        "fit_s": fit_s,
        "check_s": fit_s - sum(timer.seconds),
        "best_epoch": synth.generator.best_epoch,
        "transformer_fit_s": fit_all_s,
        "transformer_rows": len(data.table),
        **fixes,
        **(throughput(lambda n: synth.sample(n, label=data.minority, seed=2),
                       spec.speed_rows, stats, data) if spec.measure_speed else {}),
    }
    return MethodRun(rows, measured)


# -------------------------------------------------------------------------- peers


def run_smote(data: Prepared, spec: RunSpec) -> MethodRun:
    """SMOTE as the utility experiment runs it: k SMOTE(NC) rows drawn afresh per seed by
    :func:`synthbalance.core.smote.smote_rows`. Those calls are recorded, so the seed-0
    rows are the ones evaluated for quality and no extra SMOTENC run (slow: see the
    README) is needed; rows/s is over the recorded calls."""
    from benchmarks._evaluate import smote_utility

    recorder = SmoteRecorder()
    utility = smote_utility(data, spec, recorder)
    calls = sorted(recorder.calls, key=lambda c: c["seed"])
    if not calls:
        raise RuntimeError("The utility experiment made no SMOTE rows; was smote=False?")
    first = calls[0]
    stats = fit_postprocess(data.train, data.schema)
    rows, fixes = clean_rows(first["rows"], stats, data)
    seconds = sum(c["seconds"] for c in calls)
    measured = {"strategy": "per_class", "speed_rows": first["k"],
                "rows_per_s": sum(c["k"] for c in calls) / seconds,
                "sample_s": seconds / len(calls), "utility": utility, **fixes}
    return MethodRun(rows, measured)


class SmoteRecorder:
    """:func:`~synthbalance.core.smote.smote_rows`, recording every call (its rows, k, seed
    and seconds) in :attr:`calls`; handed to the utility experiment as its SMOTE rows."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, train: pd.DataFrame, schema: Any, k: int, seed: int,
                 minority_class: Any = None) -> pd.DataFrame:
        rows, seconds = timed(lambda: smote_rows(train, schema, k, seed, minority_class))
        self.calls.append({"rows": rows, "k": k, "seed": seed, "seconds": seconds})
        return rows


def run_ctgan(data: Prepared, spec: RunSpec) -> MethodRun:
    """SDV's CTGAN trained per class, as a user would: on the minority training rows (but
    the validation share, on which no generator trains), with
    ``discrete_columns`` set, our epoch budget, and its other defaults. Its rows are
    cleaned by the same postprocessing as ours."""
    try:
        from ctgan import CTGAN
    except ImportError as exc:  # the "bench" extra
        raise RuntimeError(
            "CTGAN is not installed; pip install -e '.[bench]' or leave ctgan out of "
            "--families."
        ) from exc
    schema = data.schema
    train = data.minority_rows(data.fit)[schema.names]  # as ours: never a validation row
    discrete = ctgan_discrete_columns(data, spec.ctgan_discrete)
    model = CTGAN(epochs=spec.epochs, enable_gpu=False)
    model.set_random_state(spec.train_seed)
    with ctgan_transformer_timer() as transformer, ctgan_epoch_timer() as epochs:
        _, fit_s = timed(lambda: model.fit(train, discrete))
    stats = fit_postprocess(data.train, schema)

    def sample(n: int) -> pd.DataFrame:
        return model.sample(n).assign(**{schema.target: data.minority})

    rows, fixes = clean_rows(sample(spec.pool_rows(data)), stats, data)
    measured = {
        "strategy": "per_class",
        "train_seed": spec.train_seed,
        "s_per_epoch": statistics.median(epochs),
        "s_per_epoch_mean": statistics.mean(epochs),
        "epoch_rows": len(train),
        "fit_s": fit_s,
        "transformer_fit_s": transformer["fit"],
        "transformer_transform_s": transformer["transform"],
        "transformer_rows": len(train),
        "discrete_columns": discrete,
        **fixes,
        **(throughput(sample, spec.ctgan_speed_rows, stats, data)
           if spec.measure_speed else {}),
    }
    return MethodRun(rows, measured)


def ctgan_discrete_columns(data: Prepared, mode: str) -> list[str]:
    if mode not in CTGAN_DISCRETE:
        raise ValueError(f"--ctgan-discrete is {mode!r}; use one of {CTGAN_DISCRETE}.")
    if mode == "none":
        return []
    return [c.name for c in data.schema.columns if c.kind in DISCRETE_KINDS]


@contextmanager
def ctgan_transformer_timer() -> Iterator[dict[str, float]]:
    """Seconds CTGAN's own ``DataTransformer`` spends in ``fit`` and ``transform``."""
    from ctgan.data_transformer import DataTransformer

    spent = {"fit": 0.0, "transform": 0.0}
    originals = {name: getattr(DataTransformer, name) for name in spent}

    def wrap(name: str) -> Callable[..., Any]:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            out, seconds = timed(lambda: originals[name](self, *args, **kwargs))
            spent[name] += seconds
            return out

        return run

    for name in spent:
        setattr(DataTransformer, name, wrap(name))
    try:
        yield spent
    finally:
        for name, original in originals.items():
            setattr(DataTransformer, name, original)


@contextmanager
def ctgan_epoch_timer(module: Any = None) -> Iterator[list[float]]:
    """Seconds of each CTGAN epoch, read between the iterations of its epoch loop (the
    ``tqdm`` progress bar it wraps ``range(epochs)`` in), so nothing else is counted.
    ``module``: the ``ctgan.synthesizers`` module whose loop to time (default CTGAN's;
    TVAE's loop has the same shape)."""
    if module is None:
        from ctgan.synthesizers import ctgan as module

    seconds: list[float] = []
    original = module.tqdm

    def timed_bar(*args: Any, **kwargs: Any) -> _TimedBar:
        return _TimedBar(original(*args, **kwargs), seconds)

    module.tqdm = timed_bar
    try:
        yield seconds
    finally:
        module.tqdm = original
    if not seconds:
        raise RuntimeError("CTGAN's epoch loop was not seen; has ctgan changed its fit loop?")


class _TimedBar:
    """A progress bar that records the time between the items it hands out."""

    def __init__(self, bar: Any, seconds: list[float]):
        self._bar, self._seconds = bar, seconds

    def __iter__(self) -> Iterator[Any]:
        last = time.perf_counter()
        for item in self._bar:
            yield item
            now = time.perf_counter()
            self._seconds.append(now - last)
            last = now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bar, name)


# ------------------------------------------------------------------------- shared


def clean_rows(
    raw: pd.DataFrame, stats: PostprocessStats, data: Prepared
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Postprocessed rows and the raw day-count shares below 0 (before clipping)."""
    rows, fixes = postprocess(raw, stats, data.schema, seed=SEED)
    totals = fix_totals(fixes)
    shares = {f"negative_share.{c}": totals[key] for c in DAY_COUNTS  # BRFSS's day counts
              if (key := f"postprocess.negative_share.{c}") in totals}
    return rows, {**shares, "values_fixed": totals["postprocess.values_fixed"]}


def throughput(
    sample: Callable[[int], pd.DataFrame],
    n: int,
    stats: PostprocessStats,
    data: Prepared,
) -> dict[str, float]:
    """Rows per second of sample + decode (the method's own call) + our postprocess: the
    median of ``SPEED_REPEATS`` calls, and the first call's alone."""
    calls = []
    for _ in range(SPEED_REPEATS):
        start = time.perf_counter()
        raw = sample(n)
        middle = time.perf_counter()
        postprocess(raw, stats, data.schema, seed=SEED)
        end = time.perf_counter()
        calls.append((end - start, middle - start, end - middle))
        del raw
    total, sample_s, postprocess_s = sorted(calls)[len(calls) // 2]
    return {"speed_rows": n, "rows_per_s": n / total, "sample_s": sample_s,
            "postprocess_s": postprocess_s, "speed_repeats": len(calls),
            "rows_per_s_first_call": n / calls[0][0]}
