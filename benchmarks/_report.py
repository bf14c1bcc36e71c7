"""``docs/benchmarks-brfss.md`` from measured records: tables, the targets, and how they were got.

Nothing here is a hard-coded result: every figure and every met/missed verdict is computed
from the records of the run being written.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks._data import DAY_COUNTS
from benchmarks._methods import FAMILIES, SPEED_REPEATS

Record = Mapping[str, Any]
Results = Mapping[str, Mapping[str, Record]]  # setting -> method -> record
#: setting -> method -> one record per training seed (the first is the results' record)
Repeats = Mapping[str, Mapping[str, Sequence[Record]]]
#: The figures averaged over training seeds.
SEED_KEYS = ("wasserstein_mean", "detection_accuracy", "pr_auc_gain",
             "recall_gain_at_base_precision")

SETTING_TITLES = {
    "all": "Setting (a): all training minority rows",
    "scarce": "Setting (b): scarce cut to {n:,} training minority rows",
}
COLUMNS = (
    "Method", "W-mean", "Detection acc.", "PR AUC gain", "Recall gain @ base precision",
    *(f"Neg. {c} (raw)" for c in DAY_COUNTS), "s / epoch (rows per epoch)",
    "Train speed vs CTGAN", "Rows/s sample+decode+post (rows)", "Sampling speed vs CTGAN",
    "Transformer fit s (rows)", "Peak MB",
)
#: Targets that are thresholds on one number.
MAX_DETECTION = 0.60
MIN_TRAIN_SPEEDUP = 3.0
MIN_ROWS_PER_S = 1_000_000
MAX_TRANSFORMER_S = 5.0
MAX_WALL_MIN = 30.0
MAX_PEAK_MB = 4096.0


@dataclass(frozen=True)
class Target:
    statement: str
    met: bool | None  # None: could not be evaluated in this run
    evidence: str


# ---------------------------------------------------------------------------- tables


def results_table(records: Mapping[str, Record]) -> str:
    """One markdown table: a row per method, in the order families, SMOTE, CTGAN, real."""
    ctgan = records.get("ctgan")
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for method in ordered(records):
        lines.append("| " + " | ".join(_row(method, records[method], ctgan)) + " |")
    return "\n".join(lines)


def ordered(records: Mapping[str, Record]) -> list[str]:
    order = [*FAMILIES, "smote", "ctgan", "real"]
    return [m for m in order if m in records]


def label(method: str, record: Record) -> str:
    if method == "smote":
        return "SMOTE (imbalanced-learn)"
    if method == "ctgan":
        return "CTGAN (SDV, per class)"
    if method == "real":
        return f"real {record.get('real_source', 'rows')} (reference)"
    return f"{method} ({record['strategy'].replace('_', '-')})"


def _row(method: str, r: Record, ctgan: Record | None) -> list[str]:
    return [
        label(method, r),
        num(r.get("wasserstein_mean")),
        num(r.get("detection_accuracy")),
        gain(r, "pr_auc_gain"),
        gain(r, "recall_gain_at_base_precision"),
        *(pct(r.get(f"negative_share.{c}")) for c in DAY_COUNTS),
        with_rows(num(r.get("s_per_epoch"), 2), r.get("epoch_rows")),
        ratio(train_speedup(r, ctgan)),
        with_rows(count(r.get("rows_per_s")), r.get("speed_rows")),
        ratio(sampling_speedup(r, ctgan)),
        with_rows(num(r.get("transformer_fit_s"), 2), r.get("transformer_rows")),
        count(r.get("peak_mb")),
    ]


def train_speedup(r: Record, ctgan: Record | None) -> float | None:
    """CTGAN's seconds per training row over the method's (per epoch): >1 is faster.

    Per row, so a conditional family (an epoch over every training row) and a per-class
    one (over the minority rows it did not hold aside) compare with CTGAN on equal terms.
    """
    if ctgan is None or not _finite(r.get("s_per_epoch")) or not r.get("epoch_rows"):
        return None
    ours = r["s_per_epoch"] / r["epoch_rows"]
    theirs = ctgan["s_per_epoch"] / ctgan["epoch_rows"]
    return theirs / ours if ours > 0 else None


def sampling_speedup(r: Record, ctgan: Record | None) -> float | None:
    if ctgan is None or not _finite(r.get("rows_per_s")):
        return None
    return r["rows_per_s"] / ctgan["rows_per_s"]


# ----------------------------------------------------------------------- formatting


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def num(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if _finite(value) else "–"


def count(value: Any) -> str:
    return f"{value:,.0f}" if _finite(value) else "–"


def pct(value: Any) -> str:
    return f"{100 * value:.1f} %" if _finite(value) else "–"


def ratio(value: Any) -> str:
    return f"{value:.2f}x" if _finite(value) else "–"


def gain(r: Record, name: str) -> str:
    if not _finite(r.get(name)):
        return "–"
    return f"{r[name]:+.4f} ± {r.get(name + '_std', float('nan')):.4f}"


def with_rows(text: str, rows: Any) -> str:
    return text if text == "–" or not _finite(rows) else f"{text} ({rows:,.0f})"


# --------------------------------------------------------------------------- targets


def best_family(results: Results) -> str | None:
    """Our family with the highest PR AUC gain averaged over the settings (then recall
    gain at the baseline's precision); None when no family ran."""
    scores = {}
    for family in FAMILIES:
        runs = [records[family] for records in results.values() if family in records]
        if runs:
            scores[family] = tuple(
                sum(r[key] for r in runs) / len(runs)
                for key in ("pr_auc_gain", "recall_gain_at_base_precision")
            )
    return max(scores, key=scores.get) if scores else None


def targets(results: Results, best: str | None, wall_s: float,
            repeats: Repeats | None = None) -> list[Target]:
    """Each target with its verdict and the measured numbers behind it."""
    out = [Target(f"Whole benchmark <= {MAX_WALL_MIN:.0f} min", wall_s / 60 <= MAX_WALL_MIN,
                  f"{wall_s / 60:.1f} min")]
    if best is None:
        return out
    repeats = repeats or {}
    out += [
        _beats_peers(results, best, repeats),
        _detection(results, best, repeats),
        _train_speed(results, best),
        _sampling_speed(results, best),
        _transformer(results),
        _peak(results),
    ]
    return out


def _per_setting(results: Results, method: str) -> list[tuple[str, Record]]:
    return [(s, records[method]) for s, records in results.items() if method in records]


def seed_mean(records: Sequence[Record]) -> dict[str, Any]:
    """A method's figures over its training seeds: each mean, ``_std`` the sample spread
    of the per-seed values, ``_seeds`` the values themselves."""
    out: dict[str, Any] = {"train_seeds": [r.get("train_seed") for r in records]}
    for key in SEED_KEYS:
        values = [r[key] for r in records if _finite(r.get(key))]
        if len(values) < len(records):
            continue
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        out.update({key: statistics.fmean(values), f"{key}_std": spread, f"{key}_seeds": values})
    return out


def compared(results: Results, repeats: Repeats, setting: str, method: str) -> Record | None:
    """What a target compares for a method: its mean over training seeds where it was
    trained more than once, else its one record (SMOTE, or a run without repeats)."""
    runs = repeats.get(setting, {}).get(method)
    if runs and len(runs) > 1:
        return seed_mean(runs)
    return results.get(setting, {}).get(method)


def _figure(r: Record, key: str) -> str:
    """A compared figure: mean ± spread, and the per-seed values where there are several."""
    text = gain(r, key)
    if f"{key}_seeds" in r:
        text += f" (training seeds: {' / '.join(f'{v:+.4f}' for v in r[key + '_seeds'])})"
    return text


def _seed_runs(repeats: Repeats, method: str) -> Sequence[Record]:
    """The method's records over training seeds (the longest list of any setting)."""
    return max((by_method.get(method, []) for by_method in repeats.values()), key=len,
               default=[])


def _seed_note(repeats: Repeats, best: str) -> str:
    runs = _seed_runs(repeats, best)
    if len(runs) < 2:
        return "one training seed; the gains: mean over the utility seeds"
    seeds = ", ".join(str(r.get("train_seed")) for r in runs)
    who = best + (" and CTGAN" if any("ctgan" in by_method for by_method in repeats.values())
                  else "")
    return (f"mean over training seeds {seeds} for {who}, each itself a mean over the utility "
            "seeds; SMOTE, which trains nothing: over the utility seeds")


def _beats_peers(results: Results, best: str, repeats: Repeats) -> Target:
    statement = (f"{best} beats SMOTE and CTGAN on PR AUC gain and on recall gain at the "
                 f"baseline's precision, in every setting ({_seed_note(repeats, best)})")
    verdicts: list[bool | None] = []
    first: list[bool | None] = []
    evidence = []
    for setting, records in results.items():
        if best not in records:
            continue
        ours = compared(results, repeats, setting, best)
        for key, short in (("pr_auc_gain", "PR AUC gain"),
                           ("recall_gain_at_base_precision", "recall gain @ base precision")):
            parts = []
            for peer in ("smote", "ctgan"):
                theirs = compared(results, repeats, setting, peer) or {}
                verdicts.append(None if key not in theirs else ours[key] > theirs[key])
                alone = records.get(peer, {})
                first.append(None if key not in alone else records[best][key] > alone[key])
                parts.append(f"{peer} {_figure(theirs, key) if key in theirs else 'not run'}")
            evidence.append(f"{setting}, {short}: {_figure(ours, key)} vs {', '.join(parts)}")
    if len(_seed_runs(repeats, best)) > 1:
        marks = {True: "met", False: "missed", None: "not evaluated"}
        evidence.append(f"with the first training seed alone: {marks[_all(first)]}")
    return Target(statement, _all(verdicts), "; ".join(evidence))


def _detection(results: Results, best: str, repeats: Repeats) -> Target:
    """Detection accuracy at or below the limit at every training seed of the family."""
    statement = f"Detection accuracy of {best} <= {MAX_DETECTION:.2f}"
    verdicts, evidence = [], []
    for setting, record in _per_setting(results, best):
        values = [r.get("detection_accuracy")
                  for r in repeats.get(setting, {}).get(best) or [record]]
        verdicts += [None if not _finite(v) else v <= MAX_DETECTION for v in values]
        evidence.append(f"{setting}: {' / '.join(num(v) for v in values)}")
    if len(_seed_runs(repeats, best)) > 1:
        statement += " at every training seed"
    return Target(statement, _all(verdicts), "; ".join(evidence))


def _threshold(results: Results, method: str, key: str, limit: float, *, below: bool,
               statement: str, fmt: Any = num) -> Target:
    runs = [(s, r.get(key)) for s, r in _per_setting(results, method)]
    verdicts = [None if not _finite(v) else (v <= limit if below else v >= limit)
                for _, v in runs]
    return Target(statement, _all(verdicts), "; ".join(f"{s}: {fmt(v)}" for s, v in runs))


def _sampling_speed(results: Results, best: str) -> Target:
    target = _threshold(results, best, "rows_per_s", MIN_ROWS_PER_S, below=False,
                        statement=f"Sample + decode + postprocess of {best} >= "
                                  f"{MIN_ROWS_PER_S:,} rows/s (median of the calls)",
                        fmt=count)
    first = "; ".join(f"{setting}: {count(r.get('rows_per_s_first_call'))}"
                      for setting, r in _per_setting(results, best))
    return Target(target.statement, target.met,
                  f"{target.evidence}; the first call of each process alone: {first}")


def _train_speed(results: Results, best: str) -> Target:
    statement = (f"Training of {best} >= {MIN_TRAIN_SPEEDUP:.0f}x faster per epoch than "
                 "CTGAN on the same rows (per training row), at a lower W-mean")
    verdicts, evidence = [], []
    for setting, records in results.items():
        if best not in records or "ctgan" not in records:
            continue
        ours, theirs = records[best], records["ctgan"]
        speedup = train_speedup(ours, theirs)
        closer = ours["wasserstein_mean"] < theirs["wasserstein_mean"]
        verdicts.append(speedup is not None and speedup >= MIN_TRAIN_SPEEDUP and closer)
        evidence.append(f"{setting}: {ratio(speedup)}, W-mean {num(ours['wasserstein_mean'])}"
                        f" vs CTGAN {num(theirs['wasserstein_mean'])}")
    if not verdicts:
        return Target(statement, None, "CTGAN not run")
    return Target(statement, all(verdicts), "; ".join(evidence))


def _transformer(results: Results) -> Target:
    runs = [r for records in results.values() for m, r in records.items() if m in FAMILIES]
    worst = max(runs, key=lambda r: r["transformer_fit_s"])
    return Target(
        f"TabularTransformer fit on all rows <= {MAX_TRANSFORMER_S:.0f} s",
        worst["transformer_fit_s"] <= MAX_TRANSFORMER_S,
        f"slowest of {len(runs)} fits: {worst['transformer_fit_s']:.2f} s on "
        f"{worst['transformer_rows']:,} rows",
    )


def _peak(results: Results) -> Target:
    runs = [(s, m, r["peak_mb"]) for s, records in results.items()
            for m, r in records.items() if m in FAMILIES and _finite(r.get("peak_mb"))]
    if not runs:
        return Target(f"Peak memory <= {MAX_PEAK_MB / 1024:.0f} GB", None, "not measured")
    setting, method, worst = max(runs, key=lambda run: run[2])
    return Target(f"Peak memory of every family <= {MAX_PEAK_MB / 1024:.0f} GB",
                  worst <= MAX_PEAK_MB, f"highest: {worst:,.0f} MB ({method}, {setting})")


def _all(verdicts: Sequence[bool | None]) -> bool | None:
    if not verdicts or any(v is None for v in verdicts):
        return None if not any(v is False for v in verdicts) else False
    return all(verdicts)


def target_lines(found: Sequence[Target]) -> list[str]:
    marks = {True: "met", False: "**missed**", None: "not evaluated"}
    return [f"- {t.statement}: {marks[t.met]} ({t.evidence})." for t in found]


# -------------------------------------------------------------------------- document


def document(meta: Mapping[str, Any], results: Results, repeats: Repeats | None = None) -> str:
    """The whole markdown file."""
    best = best_family(results)
    repeats = repeats or {}
    parts = [
        "# Benchmark: BRFSS 2015 diabetes, synthbalance vs SMOTE vs CTGAN",
        "",
        "Generated by `benchmarks/brfss.py` from the measurements of one run; do not edit "
        "by hand, re-run the command instead (see `benchmarks/README.md`).",
        "",
        "## Command",
        "",
        f"```\n{meta['command']}\n```",
        "",
        *_machine_lines(meta),
        *_setup_lines(meta, results),
    ]
    for setting, records in results.items():
        parts += _setting_lines(setting, records, meta)
    parts += _repeat_lines(results, repeats, best)
    parts += ["## Targets", "",
              f"Our best family: **{best}**, the family with the highest PR AUC gain averaged "
              "over the settings (ties: recall gain at the baseline's precision), at the first"
              " training seed.", "",
              *target_lines(targets(results, best, meta["wall_s"], repeats)), ""]
    parts += _definition_lines(meta)
    parts += ["", "## GPU", "", GPU_LINE]
    return "\n".join(parts) + "\n"


GPU_LINE = (
    "Training, sampling and reloading every family on a CUDA GPU, and loading the GPU-trained "
    "models on a CPU, with timings beside the same machine's CPUs: [gpu-check.md](gpu-check.md) "
    "(`python -m benchmarks.gpu_check`)."
)


def _machine_lines(meta: Mapping[str, Any]) -> list[str]:
    m, v = meta["machine"], meta["versions"]
    versions = ", ".join(f"{name} {version}" for name, version in v.items())
    others = meta["others_cpu_share"]
    load_note = (" The machine was shared: treat timings as upper bounds."
                 if _finite(others) and others > 0.1 else "")
    return [
        "## Machine and versions", "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gb']:.1f} GB.",
        f"- Load average (1 min) at start {meta['load_start']:.2f}, at end "
        f"{meta['load_end']:.2f}; other processes used {pct(others)} of the machine's CPU "
        f"time during the run.{load_note}",
        f"- Versions: {versions}; synthbalance git sha {meta['git_sha']} (read from .git; "
        "local changes not detected).",
        f"- Started {meta['started']}; whole benchmark {meta['wall_s'] / 60:.1f} min "
        f"({meta['wall_s']:.0f} s).",
        "",
    ]


def _setup_lines(meta: Mapping[str, Any], results: Results) -> list[str]:
    o = meta["options"]
    ctgan = next((r for records in results.values() for m, r in records.items()
                  if m == "ctgan"), None)
    discrete = ("not run" if ctgan is None else
                f"`discrete_columns` = {len(ctgan['discrete_columns'])} columns "
                f"({', '.join(ctgan['discrete_columns']) or 'none'}); every other column "
                "continuous")
    rows = "all rows" if o["rows"] is None else f"a seeded sample of {o['rows']:,} rows"
    return [
        "## Setup", "",
        f"- Data: `{o['data']}`, {rows}; target `Diabetes_binary`; `MentHlth` and "
        "`PhysHlth` declared `{kind: count, bounds: [0, 30]}`. 70/30 stratified split, "
        "seed 0.",
        f"- Every generator (our seven families and CTGAN): **{_plural(o['epochs'], 'epoch')}**,"
        f" batch 500, training seed {o.get('train_seed', 0)} (`--train-seed`)"
        f"{_more_seeds(o)}, each library's other defaults. Ours keep the best of their "
        "periodic "
        f"checks (every {_plural(max(1, o['epochs'] // 5), 'epoch')}, against up to 2,000 "
        "minority rows of the validation share, 20 % of the training rows, on which no "
        "generator trains); CTGAN trains on the other minority training rows and keeps its "
        "last epoch.",
        f"- CTGAN: {discrete}.",
        *_evaluation_lines(o),
    ]


def _evaluation_lines(o: Mapping[str, Any]) -> list[str]:
    """The setup of the evaluation, the threads and our sampling."""
    return [
        f"- Every method's rows are cleaned by `fit_postprocess` (on the setting's training "
        "rows) + `postprocess`, then evaluated identically against the minority rows of the "
        f"untouched test split, k = {o['k_ratio']:g} x the minority training rows at a time: "
        f"a generator samples a pool of {o['pool_ratio']:g} x those rows, quality is measured "
        "on k of them and each utility seed adds its own k; SMOTE makes k fresh rows per "
        "seed.",
        f"- Utility: xgboost with {o['trees']} trees, {o['seeds']} seeds, fitted on the "
        "training rows but the validation share; recall at the baseline's precision takes "
        "each model's threshold from the validation rows. Gains are the mean ± sample "
        "standard deviation over the seeds. xgboost (`hist`, no row or column subsampling) "
        "fits the same model for every seed, so the spread is that of the rows drawn, and "
        "the baseline's is 0.",
        f"- Torch threads per worker: {o['threads']} (`OMP_WAIT_POLICY="
        f"{o.get('omp_wait_policy', 'PASSIVE')}`, `GOMP_SPINCOUNT="
        f"{o.get('gomp_spincount', 'default')}`, flush denormals); isolation: "
        f"{o['isolation']} (`method`: one fresh process per method and setting, run one at "
        "a time).",
        f"- Our sampling: `Synthesizer.sample` defaults, batches of "
        f"{o.get('sample_batch', 65536):,} rows, forward pass in "
        f"{o.get('sample_dtype', 'float32')} (`precision: auto` on this CPU).",
        "",
    ]


def _setting_lines(setting: str, records: Mapping[str, Record],
                   meta: Mapping[str, Any]) -> list[str]:
    any_record = next(iter(records.values()))
    title = SETTING_TITLES.get(setting, setting).format(n=meta["options"]["scarce_rows"] or 0)
    baseline = next((r for r in records.values() if _finite(r.get("pr_auc_baseline"))), {})
    return [
        f"## {title}", "",
        f"Training rows {any_record.get('train_rows', 0):,}, of which minority "
        f"{any_record.get('minority_train_rows', 0):,}; k = "
        f"{any_record.get('headline_k', 0):,} rows added. **Baseline PR AUC "
        f"{num(baseline.get('pr_auc_baseline'))} ± {num(baseline.get('pr_auc_baseline_std'))}"
        f"** (xgboost on the real training rows alone).", "",
        results_table(records), "",
        *_ctgan_note(records),
    ]


def _ctgan_note(records: Mapping[str, Record]) -> list[str]:
    ctgan = records.get("ctgan")
    if ctgan is None:
        return []
    note = (f"CTGAN's `fit` took {ctgan['fit_s']:.1f} s, of which its DataTransformer "
            f"spent {ctgan['transformer_fit_s']:.1f} s fitting and "
            f"{ctgan['transformer_transform_s']:.1f} s transforming its "
            f"{ctgan['transformer_rows']:,} rows.")
    ours = [r for m, r in records.items() if m in FAMILIES]
    if ours:
        fits = sorted(r["transformer_fit_s"] for r in ours)
        median = fits[len(fits) // 2]
        note += (f" Our TabularTransformer's median fit on {ours[0]['transformer_rows']:,} "
                 f"rows took {median:.2f} s, {ratio(ctgan['transformer_fit_s'] / median)} "
                 "faster.")
    return [note, ""]


REPEAT_COLUMNS = ("Setting", "Method", "Training seed", "W-mean", "Detection acc.",
                  "PR AUC gain", "Recall gain @ base precision")


def _repeat_lines(results: Results, repeats: Repeats, best: str | None) -> list[str]:
    """The best family and CTGAN at every training seed, their means, and SMOTE's row."""
    if not any(len(runs) > 1 for by_method in repeats.values() for runs in by_method.values()):
        return []
    lines = [
        "## Training seeds", "",
        f"The tables above train every generator once. The best family at that seed, "
        f"**{best}**, and CTGAN are trained again with further seeds, each run sampled and "
        "evaluated exactly as above (its ± is over the utility seeds); the mean rows' ± is "
        "the sample spread over the training seeds. SMOTE trains nothing: its row repeats "
        "the table's. The targets compare these means.", "",
        "| " + " | ".join(REPEAT_COLUMNS) + " |", "|" + "---|" * len(REPEAT_COLUMNS),
    ]
    for setting, by_method in repeats.items():
        for method, runs in by_method.items():
            name = label(method, runs[0])
            for r in runs:
                lines.append(_repeat_row(setting, name, str(r.get("train_seed")), r))
            lines.append(_repeat_row(setting, name, f"**mean of {len(runs)}**", seed_mean(runs)))
        smote = results[setting].get("smote")
        if smote is not None:
            lines.append(_repeat_row(setting, label("smote", smote), "–", smote))
    return [*lines, ""]


def _repeat_row(setting: str, name: str, seed: str, r: Record) -> str:
    cells = [setting, name, seed, num(r.get("wasserstein_mean")),
             num(r.get("detection_accuracy")), gain(r, "pr_auc_gain"),
             gain(r, "recall_gain_at_base_precision")]
    return "| " + " | ".join(cells) + " |"


def _more_seeds(options: Mapping[str, Any]) -> str:
    n, first = options.get("train_seeds", 1), options.get("train_seed", 0)
    if n < 2:
        return ""
    more = ", ".join(str(seed) for seed in range(first + 1, first + n))
    return (f"; the best family and CTGAN are also trained with seed{'s' if n > 2 else ''} "
            f"{more} (`--train-seeds {n}`, see \"Training seeds\")")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _definition_lines(meta: Mapping[str, Any]) -> list[str]:
    o = meta["options"]
    return [
        "## How each column is measured", "",
        "- **W-mean**: `fidelity.wasserstein_mean` (per-column std-scaled Wasserstein / total "
        "variation, averaged) of the k clean rows vs the test minority rows; lower is better.",
        "- **Detection acc.**: xgboost real-vs-synthetic accuracy on held-out halves "
        "(`detection.accuracy`); 0.5 is indistinguishable.",
        "- **PR AUC gain**, **Recall gain @ base precision**: xgboost on training rows + the "
        "k rows minus xgboost on training rows alone, on the test split; the recall is read "
        "at the precision the baseline reached, so a gain bought with precision is none. "
        "SMOTE's rows are drawn afresh per seed, as the project's utility experiment does; "
        "its quality columns are those of the seed-0 rows.",
        "- **Neg. (raw)**: `postprocess.negative_share.*` of `fix_totals`: the share of the "
        "method's raw rows below 0 days before clipping.",
        "- **s / epoch**: median wall time of the training epochs (the median, so the first "
        "epoch's warm-up and a stray spike of other load do not count; ours: the family's "
        "`_train_epoch`, so the periodic checks are excluded; CTGAN: the time between "
        "iterations of its epoch loop). **Train speed vs CTGAN**: CTGAN's seconds per "
        "training row per epoch over the method's (>1: faster).",
        f"- **Rows/s**: sample + decode (`Synthesizer.sample` / `CTGAN.sample`) + "
        f"`postprocess`, the median of {SPEED_REPEATS} calls; ours on {o['speed_rows']:,} "
        f"rows, CTGAN on {o['ctgan_speed_rows']:,} (its batch-500 sampler is slow), SMOTE "
        "on its k rows, averaged over the utility experiment's calls (one per seed). "
        "**Sampling speed vs CTGAN**: the ratio of rows/s.",
        "- **Transformer fit**: ours, `TabularTransformer.fit` on the whole table (the one "
        "training uses is fitted on the training rows); CTGAN, its `DataTransformer.fit` "
        "inside `fit`, on its training rows.",
        "- **Peak MB**: the worker process's peak RSS (`ru_maxrss`) after training, sampling "
        "and the rows/s measurement, before evaluation; it includes the loaded table.",
        "",
    ]
