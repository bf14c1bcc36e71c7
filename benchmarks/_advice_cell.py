"""One cell of the advice benchmark: the pipeline's stages on one table with one seed."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import pandas as pd

from benchmarks.advice import SETTINGS, SHARED, Options, Setting
from synthbalance.core.advice import Advice, advise
from synthbalance.core.config import GeneratorConfig
from synthbalance.core.demo import make_demo_table
from synthbalance.core.metrics import UtilityResult, recall_gain_experiment
from synthbalance.core.postprocess import fit_postprocess, postprocess
from synthbalance.core.schema import Schema
from synthbalance.core.split import inner_split, scarce_cut, split_table
from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer
from synthbalance.core.tables import rows_of
from synthbalance.core.transformer import TabularTransformer
from synthbalance.core.validation import validate_table

#: The pipeline's defaults these cells follow.
TEST_SIZE, VALIDATION_SIZE, POOL_RATIO = 0.3, 0.2, 2.0
K_RATIOS, HEADLINE_RATIO = (0.25, 0.5, 1.0, 2.0), 1.0


@dataclass
class CellData:
    """A cell's frames (``train`` holds the validation rows too), and its synthetic pool."""

    schema: Schema
    frames: dict[str, pd.DataFrame]
    n_minority: int
    generator_seconds: float


@functools.lru_cache(maxsize=2)
def setting_table(name: str, rows: int | None) -> tuple[pd.DataFrame, Schema]:
    """The validated table of setting ``name`` (read once per process)."""
    setting = SETTINGS[name]
    if setting.source == "demo":
        raw = make_demo_table(rows or 20_000, seed=0)
    else:
        raw = pd.read_csv(SHARED / setting.source)
        if rows is not None and rows < len(raw):
            raw = raw.sample(rows, random_state=0).sort_index()
    return validate_table(raw, setting.target, setting.hints or {})


def prepare(setting: Setting, seed: int, options: Options) -> CellData:
    """Split, cut, carve validation rows, train a cvae without them, sample and clean."""
    table, schema = setting_table(setting.name, options.rows)
    train, test = split_table(table, schema, TEST_SIZE, seed)
    train, held_back = scarce_cut(train, schema, setting.scarce, seed)
    _, validation = inner_split(train, schema, VALIDATION_SIZE, seed)
    minority = schema.minority_classes[0]
    n_minority = len(rows_of(train, schema.target, minority))
    start = time.perf_counter()
    transformer = TabularTransformer(max_modes=setting.max_modes, seed=seed).fit(train, schema)
    config = GeneratorConfig(epochs=options.epochs, check_every=max(1, options.epochs // 5),
                             device="cpu", num_threads=options.threads)
    synth = train_synthesizer(train, transformer.transform(train), transformer, schema,
                              TrainingPlan("cvae", config, seed=seed), progress=False,
                              validation=validation)
    raw = synth.sample(round(POOL_RATIO * n_minority), label=minority, seed=seed)
    pool, _ = postprocess(raw, fit_postprocess(train, schema), schema, seed=seed)
    frames = {"train": train, "validation": validation, "test": test,
              "held_back": rows_of(held_back, schema.target, minority), "synthetic": pool}
    return CellData(schema, frames, n_minority, time.perf_counter() - start)


def utility_and_advice(
    data: CellData, seed: int, options: Options
) -> tuple[UtilityResult, Advice]:
    """The utility experiment's arms on the cell's rows, and the advice drawn from them."""
    n = data.n_minority
    headline = max(1, round(HEADLINE_RATIO * n))
    ks = sorted({max(1, round(r * n)) for r in K_RATIOS} | {headline})
    f = data.frames
    result = recall_gain_experiment(
        f["train"], f["test"], data.schema, f["synthetic"],
        f["held_back"] if len(f["held_back"]) else None, ks, [seed], headline,
        validation=f["validation"], xgb_params={"n_estimators": options.trees},
        n_jobs=options.threads, n_boot=options.n_boot)
    return result, advise(result.arms, result.summary()["pr_auc_baseline"])
