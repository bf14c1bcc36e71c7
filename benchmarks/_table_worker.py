"""One cell of the tables benchmark: one method on one table, every training seed.

``python -m benchmarks._table_worker SPEC.json OUT.json`` is what :mod:`benchmarks.tables`
starts in a fresh process per cell (so each peak memory is the cell's own); the same
:func:`run_cell` runs in-process with ``--isolation none``.

A generator cell trains once per training seed (timed), cleans a pool of rows per seed,
scores each pool's fidelity and detection against the test split's minority rows, and then
runs the utility experiment once with utility seed = training seed: the rows added for
seed s come from the generator trained with seed s, so the arm's gain and its paired
bootstrap interval are those of the mean over the training seeds. The ``reference`` cell
runs what trains nothing: the baseline, class weights, random oversampling, SMOTE and the
held-back real rows, on the same utility seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks._data import Prepared, prepare_setting
from benchmarks._methods import SmoteRecorder, clean_rows, throughput, timed
from benchmarks._worker import configure_torch, peak_rss_mb, plain
from synthbalance.core.metrics import detection, fidelity, privacy, recall_gain_experiment
from synthbalance.core.metrics.privacy import PRIVACY_MAX_ROWS
from synthbalance.core.postprocess import PostprocessStats, fit_postprocess

#: Extra k of a table's grid beside its minority training rows (the fraud-GAN setting adds
#: up to every held-back fraud: 344 frauds in the training split, 100 kept).
EXTRA_KS: dict[str, tuple[int, ...]] = {"creditcard-100": (244,)}
BATCH = 500  # every generator's batch, ours and the peers'
SEED = 0
#: Seconds one call of the rows/s measurement should take (it is repeated five times).
SPEED_SECONDS = 1.0


@dataclass(frozen=True)
class CellSpec:
    """One method on one table; plain data, so it travels to a worker as JSON."""

    table: str
    method: str
    train_seeds: tuple[int, ...] = (0, 1, 2)
    #: Epochs of every generator, or ``"auto"``: our families get the pipeline's step budget
    #: (``training.epochs: auto``, :func:`~synthbalance.core.config.step_budget`) and
    #: ``check_every: auto``; ``min_steps`` and ``max_epochs`` then do not apply.
    epochs: int | str = 5
    min_steps: int = 600
    max_epochs: int = 300
    trees: int = 100
    n_boot: int = 500
    threads: int = 2
    rows: int | None = None
    speed_rows: int = 100_000
    peer_speed_rows: int = 20_000
    pool_ratio: float = 2.0
    argn_minutes: float = 1.0  # TabularARGN's max_training_time per training
    #: Our families stop after this many periodic checks in a row without a better score
    #: (``training.patience``); ``None``: never early.
    patience: int | None = None
    #: DP-SGD budget of our families (``training.privacy.epsilon``); ``None``: no DP (ε = ∞).
    epsilon: float | None = None
    #: Score each seed's pool with the membership attacks (:func:`attack_figures`).
    attacks: bool = False
    #: Also the table's :data:`EXTRA_KS` (False: k = the minority training rows only).
    extra_ks: bool = True
    #: Further generator settings of our families (``GeneratorConfig`` keys), e.g.
    #: ``{"vae_lr": 0.01}``; the budget keys above win over the same keys here.
    generator: dict[str, Any] = field(default_factory=dict)
    #: Draws per pool row of our families, kept by importance resampling as the pipeline's
    #: ``sampling.oversample`` does (``"auto"``: its default); 1: the plain draws.
    oversample: int | str = 1

    def epochs_for(self, n_rows: int) -> int:
        """Epochs of a generator whose epoch covers ``n_rows``: ``epochs``, raised to reach
        ``min_steps`` batches of 500 on small sets, at most ``max_epochs``. Raises
        ``ValueError`` when ``epochs`` is ``"auto"`` (only our families resolve it)."""
        if self.epochs == "auto":
            raise ValueError("epochs 'auto' is the pipeline's budget of our families; "
                             "give the peers a number of epochs")
        per_epoch = max(1, n_rows // BATCH)
        return min(self.max_epochs, max(self.epochs, math.ceil(self.min_steps / per_epoch)))


PATIENCE_HELP = ("our families stop after this many checks in a row without a better score "
                 "(training.patience; default: never early)")


def epochs_arg(text: str) -> int | str:
    """``--epochs`` and ``--oversample`` of the benchmarks: a positive number, or ``auto``."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a positive number nor 'auto'")
    return int(text)


OVERSAMPLE_HELP = ("draws per pool row of our families, kept by importance resampling "
                   "(sampling.oversample; auto: the pipeline's default; default 1: none)")


def check_budget(records: Iterable[dict[str, Any]], epochs: int | str, patience: int | None,
                 path: Path, oversample: int | str = 1) -> None:
    """Stop before one markdown mixes budgets: a recorded cell of our families trained
    with the other kind of budget (``auto`` or a number of epochs), another ``patience``
    or sampled with another ``oversample`` than this run asks for raises ``SystemExit``
    naming the fix. Cells that train none of ours (the reference arms, the peers) are not
    checked, nor two numbers of epochs (a record holds the epochs after ``min_steps``
    raised them)."""
    ours = (epochs == "auto", patience, oversample)
    for record in records:
        if record["method"] == "reference" or record["method"] in _peer_names():
            continue
        # records older than the budget options hold no config: a number of epochs, no stop
        config = next(iter(record["seeds"]), {}).get("config", {})
        # and records older than --oversample drew their pools plainly
        theirs = (config.get("epochs"), config.get("patience"), record.get("oversample", 1))
        if (theirs[0] == "auto", *theirs[1:]) != ours:
            raise SystemExit(
                f"{path} holds {record['table']} {record['method']} trained with "
                f"{_budget_words(*theirs)}; this run asks for "
                f"{_budget_words(epochs, patience, oversample)}. Give this budget --records "
                "and --out files of its own (the tables benchmark at the pipeline's default, "
                "--epochs auto --patience 3 --oversample auto, is in "
                "benchmarks/tables_default_records.jsonl).")


def _budget_words(epochs: int | str | None, patience: int | None,
                  oversample: int | str) -> str:
    """A budget as the command line gives it; ``epochs`` None: a record without config."""
    kind = "a fixed number of epochs" if epochs is None else f"--epochs {epochs}"
    return (f"{kind}, " + (f"--patience {patience}" if patience else "no --patience")
            + f" and --oversample {oversample}")


def k_grid(name: str, data: Prepared, extra: bool = True) -> list[int]:
    """The table's k: its minority training rows, and (``extra``) :data:`EXTRA_KS`."""
    return sorted({data.n_minority_train, *(EXTRA_KS.get(name, ()) if extra else ())})


def run_cell(spec: CellSpec) -> dict[str, Any]:
    """The cell's record (see :mod:`benchmarks.tables` for its fields)."""
    start = time.perf_counter()
    configure_torch(spec.threads)
    data = prepare_setting(spec.table, spec.rows)
    ks = k_grid(spec.table, data, spec.extra_ks)
    stats = fit_postprocess(data.train, data.schema)
    if spec.method == "reference":
        record = _reference(data, spec, ks, stats)
    else:
        record = _generator(data, spec, ks, stats)
    return {**record, "table": spec.table, "method": spec.method, "epsilon": spec.epsilon,
            "ks": ks, "generator": spec.generator, "oversample": spec.oversample,
            "minority_train_rows": data.n_minority_train, "train_rows": len(data.train),
            "fit_rows": len(data.fit), "peak_mb": peak_rss_mb(),
            "worker_s": time.perf_counter() - start}


def _generator(data: Prepared, spec: CellSpec, ks: list[int],
               stats: PostprocessStats) -> dict[str, Any]:
    n_pool = max(*ks, round(spec.pool_ratio * data.n_minority_train))
    pools, seeds, speed = {}, [], {}
    for seed in spec.train_seeds:
        sample, measured = train(spec, data, seed)
        pool, fixes = clean_rows(draw_pool(spec, data, sample, n_pool, seed), stats, data)
        pools[seed] = pool
        seeds.append({"train_seed": seed, **measured, **fixes,
                      **quality(pool.iloc[: max(ks)], data, spec),
                      **(attack_figures(pool, data, seed) if spec.attacks else {})})
        if seed == spec.train_seeds[0] and spec.speed_rows > 0:
            speed = _speed(spec, sample, stats, data)
    peak_generator = peak_rss_mb()
    arms = _utility(data, spec, ks, held_back=None, smote=PoolRows(pools))
    arms = [{**a, "method": "synthetic"} for a in arms if a["method"] == "smote"]
    return {"seeds": seeds, "speed": speed, "arms": arms, "peak_mb_generator": peak_generator}


def draw_pool(spec: CellSpec, data: Prepared, sample: Callable, n: int,
              seed: int) -> pd.DataFrame:
    """``n`` raw rows of a trained method: the first ``n`` draws (seed 1), or for our
    families with ``spec.oversample`` above 1 (``auto`` resolved as the pipeline does,
    1 under DP) that many times as many, importance-resampled against the minority rows the
    generator learned from (:func:`~synthbalance.core.reweight.importance_resample`)."""
    from synthbalance.core.reweight import importance_resample, resolve_oversample

    if spec.method in _peer_names():
        return sample(n, 1)
    oversample = resolve_oversample(spec.oversample, spec.epsilon is not None)
    return importance_resample(data.minority_rows(data.fit), sample(oversample * n, 1),
                               data.schema, n, seed, n_jobs=spec.threads)


def _speed(spec: CellSpec, sample: Callable, stats: PostprocessStats,
           data: Prepared) -> dict[str, float]:
    """Rows/s of sample + postprocess (:func:`~benchmarks._methods.throughput`) on as many
    rows as take about :data:`SPEED_SECONDS` a call (a probe of 1,000 rows decides), at
    most ``speed_rows`` (``peer_speed_rows`` for a peer): ddpm's 100 reverse steps and
    the peers' samplers are orders of magnitude slower than one pass of a network."""
    cap = spec.peer_speed_rows if spec.method in _peer_names() else spec.speed_rows
    probe = min(cap, 1000)
    _, seconds = timed(lambda: sample(probe, 2))
    n = int(min(cap, max(probe, probe / seconds * SPEED_SECONDS)))
    return throughput(lambda m: sample(m, 2), n, stats, data)


def _reference(data: Prepared, spec: CellSpec, ks: list[int],
               stats: PostprocessStats) -> dict[str, Any]:
    recorder = SmoteRecorder()
    held_back = data.minority_rows(data.held_back)
    arms = _utility(data, spec, ks, held_back=held_back if len(held_back) else None,
                    smote=recorder)
    first = min(recorder.calls, key=lambda c: c["seed"])
    smote, _ = clean_rows(first["rows"], stats, data)
    out = {"arms": arms, "smote_quality": quality(smote.iloc[: max(ks)], data, spec),
           "smote_rows_per_s": sum(c["k"] for c in recorder.calls)
           / sum(c["seconds"] for c in recorder.calls)}
    if len(held_back):
        out["real_quality"] = quality(held_back.sample(n=min(max(ks), len(held_back)),
                                                       random_state=SEED), data, spec)
    return out


def train(spec: CellSpec, data: Prepared, seed: int) -> tuple[Callable, dict[str, Any]]:
    """Train ``spec.method`` with ``seed``: ``(sample(n, seed) -> raw rows, measured)``."""
    from benchmarks._peers import train_peer

    if spec.method in _peer_names():
        n = len(data.minority_rows(data.fit))
        return train_peer(spec.method, data, spec.epochs_for(n), seed, spec.argn_minutes)
    return _train_ours(spec, data, seed)


def _budget(spec: CellSpec, n_rows: int) -> dict[str, Any]:
    """``epochs`` and ``check_every`` of our families: the pipeline's ``auto`` pair, or
    :meth:`CellSpec.epochs_for` checked every fifth of the epochs."""
    if spec.epochs == "auto":
        return {"epochs": "auto", "check_every": "auto"}
    epochs = spec.epochs_for(n_rows)
    return {"epochs": epochs, "check_every": max(1, epochs // 5)}


def _train_ours(spec: CellSpec, data: Prepared, seed: int) -> tuple[Callable, dict[str, Any]]:
    """One of our families, as the training pipeline trains it (the table's ``max_modes``,
    validation rows checked every fifth of the epochs, or ten times with ``epochs: auto``,
    the best check kept)."""
    import statistics

    from benchmarks.advice import SETTINGS
    from synthbalance.core.config import STRATEGIES_BY_MODEL, GeneratorConfig
    from synthbalance.core.models.callbacks import EpochTimer
    from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer
    from synthbalance.core.transformer import TabularTransformer

    conditional = STRATEGIES_BY_MODEL[spec.method][0] == "conditional"
    n = len(data.fit) if conditional else len(data.minority_rows(data.fit))
    transformer = TabularTransformer(max_modes=SETTINGS[spec.table].max_modes, seed=SEED)
    transformer.fit(data.train, data.schema)
    privacy = None if spec.epsilon is None else {"epsilon": spec.epsilon}
    config = GeneratorConfig.from_dict({
        **spec.generator, **_budget(spec, n), "patience": spec.patience, "device": "cpu",
        "num_threads": spec.threads, "batch_size": BATCH, "privacy": privacy})
    plan = TrainingPlan(model=spec.method, config=config, seed=seed,
                        class_value=None if conditional else data.minority)
    timer = EpochTimer()
    synth, fit_s = timed(lambda: train_synthesizer(
        data.train, transformer.transform(data.train), transformer, data.schema, plan,
        progress=False, callbacks=[timer], validation=data.validation))

    def sample(rows: int, draw_seed: int) -> pd.DataFrame:
        return synth.sample(rows, label=data.minority, seed=draw_seed)

    return sample, {"config": config.to_dict(), "epochs": synth.generator.epochs,
                    "epochs_run": len(timer.seconds), "check_every": synth.generator.check_every,
                    "epoch_rows": timer.n_rows,
                    "fit_s": fit_s,
                    "s_per_epoch": statistics.median(timer.seconds),
                    "best_epoch": synth.generator.best_epoch,
                    "epsilon_spent": _last(synth.generator.history, "privacy.epsilon"),
                    "delta": _last(synth.generator.history, "privacy.delta"),
                    "strategy": "conditional" if conditional else "per_class"}


def _last(history: dict[str, list], key: str) -> float | None:
    """The last value a fit recorded under ``key`` (``None``: never recorded, no DP)."""
    values = history.get(key) or []
    return float(values[-1]) if values else None


def quality(rows: pd.DataFrame, data: Prepared, spec: CellSpec) -> dict[str, float]:
    """Fidelity and detection of ``rows`` against the test split's minority rows."""
    real = data.minority_rows(data.test)
    fid = fidelity(real, rows, data.schema)
    det = detection(real, rows, data.schema, SEED, n_jobs=spec.threads)
    return {"wasserstein_mean": fid["wasserstein_mean"],
            "correlation_distance": fid["correlation_distance"],
            "detection_accuracy": det["accuracy"], "detection_auc": det["auc"],
            "eval_rows": len(rows)}


def attack_figures(pool: pd.DataFrame, data: Prepared, seed: int) -> dict[str, float]:
    """The pipeline's privacy figures (``evaluate_privacy``) of the minority ``pool``:
    members are the minority rows the generator trained on (``data.fit``), attacked
    non-members the test split's, DOMIAS reference rows the validation and held-back ones;
    ``members`` is how many members (and as many non-members) each attack scored."""
    minority = data.minority_rows
    members, non_members = minority(data.fit), minority(data.test)
    reference = pd.concat([minority(data.validation), minority(data.held_back)])
    found = privacy(members, non_members, pool, reference, data.schema, seed)
    return {**{f"privacy.{k}": float(v) for k, v in found.items()},
            "privacy.members": min(len(members), len(non_members), PRIVACY_MAX_ROWS)}


class PoolRows:
    """A ``RowMaker`` for the utility experiment's SMOTE slot: for utility seed s, k rows
    drawn (seeded by s) from the pool of the generator trained with seed s."""

    def __init__(self, pools: dict[int, pd.DataFrame]):
        self.pools = pools

    def __call__(self, train: pd.DataFrame, schema: Any, k: int, seed: int,
                 minority_class: Any = None) -> pd.DataFrame:
        pool = self.pools[seed]
        return pool.sample(n=min(k, len(pool)), random_state=seed)


def _utility(data: Prepared, spec: CellSpec, ks: list[int], *, held_back: pd.DataFrame | None,
             smote: Any) -> list[dict[str, Any]]:
    """The arms' rows (mean gain over the seeds, spread, paired bootstrap interval), with
    the baseline's PR AUC (mean over the seeds) on each."""
    result = recall_gain_experiment(
        data.train, data.test, data.schema, None, held_back, ks, list(spec.train_seeds),
        data.n_minority_train, validation=data.validation, smote=smote,
        xgb_params={"n_estimators": spec.trees}, n_jobs=spec.threads, n_boot=spec.n_boot)
    base = result.summary()["pr_auc_baseline"]
    return [{**row, "pr_auc_baseline": base} for row in result.arms.to_dict("records")]


def _peer_names() -> tuple[str, ...]:
    from benchmarks._peers import PEER_NAMES

    return PEER_NAMES


def main(argv: list[str]) -> None:
    spec_path, out_path = (Path(a) for a in argv)
    raw = json.loads(spec_path.read_text())
    spec = CellSpec(**{**raw, "train_seeds": tuple(raw["train_seeds"])})
    out_path.write_text(json.dumps(run_cell(spec), default=plain))


if __name__ == "__main__":
    main(sys.argv[1:])
