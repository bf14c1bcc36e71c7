"""The advice: whether to augment the training set, with which arm and how many rows.

Chosen on the training split alone, from the utility experiment's validation scores
(:mod:`synthbalance.core.metrics.utility`): among the arms a user can apply (class weights,
random oversampling, SMOTE, synthetic rows; held-back real rows are a yardstick, not an
option) and every k of the grid, the candidate with the highest mean validation PR AUC gain
over the baseline, provided the lower end of that gain's interval lies above 0. The
intervals hold for all candidates at once (95 %, Bonferroni over them): the best of a dozen
noisy gains looks better than it is, and a per-candidate interval let one through whose
test gain was below 0 in our benchmark. Where no candidate clears that bar the advice is
to train on the real rows as they are (``none``). Validation rows stand for the
population the classifier will meet: after a scarce cut they are weighted to the share of
minority rows before it (:mod:`synthbalance.core.metrics.utility`). The chosen candidate is
scored once on
the test split: its test gain is the figure a user may expect, never an input of the
choice.

Elor and Averbuch-Elor ("To SMOTE, or not to SMOTE?", 2022) and van den Goorbergh et al.
(JAMIA 2022) found that for boosted trees oversampling rarely beats a tuned threshold or
class weights, so "none" and "class weights only" are expected answers, not failures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler

from synthbalance.core.config import PrivacyConfig
from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics.attacks import chance_spread
from synthbalance.core.schema import Schema
from synthbalance.core.smote import smote_rows
from synthbalance.core.tables import label_mask, rows_of

#: Arms a user can apply, in the order that breaks ties (simplest first).
CANDIDATES: tuple[str, ...] = ("class_weights", "random_oversampling", "smote", "synthetic")
#: The column of the advised training set that marks the rows added to the real ones.
ADDED_COLUMN = "synthbalance_added"
_GAIN = "validation_pr_auc_gain"
#: A validation PR AUC at least this high is perfect: every minority row ranked first
#: (average precision is exactly 1.0 then; the margin absorbs a mean's rounding).
PERFECT_PR_AUC = 1.0 - 1e-9


@dataclass(frozen=True)
class Advice:
    """What to do: ``arm`` (``none`` or one of :data:`CANDIDATES`) with ``k`` rows added
    per minority class, the validation gain that chose it and its interval, and the test
    gain of that choice with its interval (PR AUC, mean over seeds)."""

    arm: str
    k: int
    validation_pr_auc_gain: float
    validation_pr_auc_gain_low: float
    validation_pr_auc_gain_high: float
    test_pr_auc_gain: float
    test_pr_auc_gain_low: float
    test_pr_auc_gain_high: float
    pr_auc_baseline: float
    best_rejected: str = ""  # the best candidate left out for its interval, for the verdict
    rejected_gain: float = 0.0  # its validation gain
    synthetic_best: str = ""  # the synthetic rows' best k and gain, when another arm led
    validation_pr_auc_baseline: float | None = None  # the baseline's own, when given

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Advice:
        return cls(**data)

    def metrics(self) -> dict[str, float]:
        """The MLflow metrics ``advice.*`` (the arm itself is a tag, ``advice.arm``)."""
        names = ("k", "validation_pr_auc_gain", "validation_pr_auc_gain_low",
                 "validation_pr_auc_gain_high", "test_pr_auc_gain", "test_pr_auc_gain_low",
                 "test_pr_auc_gain_high")
        return {f"advice.{name}": float(getattr(self, name)) for name in names}


def advise(arms: pd.DataFrame, pr_auc_baseline: float,
           validation_pr_auc_baseline: float | None = None) -> Advice:
    """Choose from the utility experiment's ``arms`` table (module docstring).

    Ties in validation gain go to the smaller k, then to the simpler arm.
    ``pr_auc_baseline`` and ``validation_pr_auc_baseline`` are the baseline classifier's
    test and validation PR AUC (mean over seeds). A perfect validation baseline (1.0) leaves
    no gain to find: the advice is ``none``, without a best candidate, and the verdict says
    why (:func:`verdict`).
    """
    validation = (None if validation_pr_auc_baseline is None
                  else float(validation_pr_auc_baseline))
    if _perfect(validation):
        return Advice("none", 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, pr_auc_baseline,
                      validation_pr_auc_baseline=validation)
    candidates = arms[arms["method"].isin(CANDIDATES)].copy()
    candidates["order"] = candidates["method"].map(CANDIDATES.index)
    candidates = candidates.sort_values([_GAIN, "k", "order"], ascending=[False, True, True])
    eligible = candidates[candidates[f"{_GAIN}_low"] > 0]
    lead = eligible if len(eligible) else candidates
    synthetic = candidates[candidates["method"] == "synthetic"]
    own = (_gain_words(synthetic.iloc[0]) if len(synthetic)
           and lead.iloc[0]["method"] != "synthetic" else "")
    if eligible.empty:
        best = candidates.iloc[0] if len(candidates) else None
        rejected = "" if best is None else f"{best['method']} with {_gain_words(best)}"
        gain = 0.0 if best is None else float(best[_GAIN])
        return Advice("none", 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, pr_auc_baseline, rejected, gain,
                      own, validation)
    row = eligible.iloc[0]
    return Advice(
        str(row["method"]), int(row["k"]), float(row[_GAIN]), float(row[f"{_GAIN}_low"]),
        float(row[f"{_GAIN}_high"]), float(row["pr_auc_gain"]), float(row["pr_auc_gain_low"]),
        float(row["pr_auc_gain_high"]), pr_auc_baseline, synthetic_best=own,
        validation_pr_auc_baseline=validation,
    )


def _perfect(pr_auc: float | None) -> bool:
    return pr_auc is not None and pr_auc >= PERFECT_PR_AUC


def _gain_words(row: pd.Series) -> str:
    """``k = 1434: +0.0144 [-0.0184, +0.0473]``: a candidate's validation gain."""
    return (f"k = {int(row['k'])}: {row[_GAIN]:+.4f} "
            f"[{row[f'{_GAIN}_low']:+.4f}, {row[f'{_GAIN}_high']:+.4f}]")


def augmented_rows(
    advice: Advice,
    train: pd.DataFrame,
    synthetic: pd.DataFrame | None,
    schema: Schema,
    seed: int,
) -> pd.DataFrame:
    """The advised training set: every real training row, then ``advice.k`` rows of the
    advised arm per minority class, with a boolean :data:`ADDED_COLUMN` marking them.

    Rows of ``random_oversampling`` and ``smote`` are made from all training rows;
    ``synthetic`` rows are a seeded draw from ``synthetic`` (all of them if fewer). With
    ``none`` or ``class_weights`` nothing is added.

    Raises:
        DataValidationError: the advice needs synthetic rows and none were given.
    """
    frames = [train.assign(**{ADDED_COLUMN: False})]
    if advice.arm in ("random_oversampling", "smote", "synthetic"):
        for i, cls in enumerate(schema.minority_classes):
            added = _added(advice, train, synthetic, schema, cls, seed + i)
            frames.append(added.assign(**{ADDED_COLUMN: True}))
    return pd.concat(frames, ignore_index=True)


def _added(advice: Advice, train: pd.DataFrame, synthetic: pd.DataFrame | None,
           schema: Schema, cls: Any, seed: int) -> pd.DataFrame:
    """``advice.k`` rows of class ``cls`` made by the advised arm (with the identifier and
    constant columns the rows have: fresh ids, unless the arm copies real rows)."""
    columns = [*schema.names, schema.target, *(c.name for c in schema.unlearned
                                               if c.synthetic != "drop")]
    if advice.arm == "smote":
        return smote_rows(train, schema, advice.k, seed, cls).reindex(columns=columns)
    if advice.arm == "random_oversampling":
        is_class = label_mask(train[schema.target], cls).astype(int)
        sampler = RandomOverSampler(
            sampling_strategy={1: int(is_class.sum()) + advice.k}, random_state=seed)
        sampler.fit_resample(np.zeros((len(train), 1)), is_class)
        return train.iloc[sampler.sample_indices_[len(train):]].reindex(columns=columns)
    if synthetic is None or synthetic.empty:
        raise DataValidationError(
            "The advice is to add synthetic rows, but none were given; run the sampling "
            "and postprocessing pipelines first."
        )
    pool = rows_of(synthetic, schema.target, cls) if schema.target in synthetic.columns \
        else synthetic
    order = np.random.default_rng(seed).permutation(len(pool))[: advice.k]
    return pool.iloc[order].assign(**{schema.target: cls}).reindex(columns=columns)


#: Said of the advised training set when nothing was added.
_UNMARKED = f" (drop the column {ADDED_COLUMN}, False on every row, before training)"
#: Where a deployment prevalence comes from, in the verdict's words.
PREVALENCE_SOURCES = {
    "declared": "as evaluation.deployment_prevalence declares",
    "before_cut": "the training split's minority share before the scarce cut",
}


def verdict(advice: Advice, path: str, class_weight: float | None = None,
            prevalence: float | None = None, source: str | None = None,
            chance: float | None = None, proxies: Sequence[str] = (),
            minority: Sequence[Any] = (), validation_minority: int | None = None) -> str:
    """The advice in words: what to do, its numbers, and where the training set is;
    ``prevalence``: the minority share validation rows were weighted to (said when given),
    ``source``: where it comes from, a key of :data:`PREVALENCE_SOURCES` (said when given),
    ``chance``: the test split's minority share, the PR AUC of a classifier that ranks at
    random (said beside the baseline's when given), ``proxies``: columns whose every value
    occurs with one class only, named when the baseline is perfect; ``minority``: the
    minority classes, said to be averaged over when there are several;
    ``validation_minority``: how many validation rows are of a minority class, said when
    the baseline ranks them all first.
    """
    if advice.arm == "none" and _perfect(advice.validation_pr_auc_baseline):
        return _perfect_words(advice, path, tuple(proxies), validation_minority)
    said = _advice_words(advice, path, class_weight, chance, tuple(proxies))
    if len(minority) > 1:
        said += (f" With {len(minority)} minority classes ({', '.join(map(str, minority))}),"
                 " each PR AUC is the mean over their one-vs-rest classifiers, and k counts "
                 "the rows added to each class; each class's own test gains are "
                 "utility.class_<class>.* in data/08_reporting/metrics.csv (docs/metrics.md).")
    if prevalence is None:
        return said
    origin = f", {PREVALENCE_SOURCES[source]}" if source else ""
    return (f"{said} The validation figures weigh minority rows to a share of "
            f"{100 * prevalence:.1f} %, the deployment prevalence{origin} (docs/metrics.md); "
            "the test split counts its rows as they are.")


#: ``privacy.mia_auc`` from which the verdict warns (docs/privacy-attacks.md: "a leak"),
#: unless chance reaches further on few attacked rows (:func:`leak_auc`).
LEAK_AUC = 0.6


def leak_auc(members: float | None) -> float:
    """The attack AUC from which the verdict warns, with ``members`` training rows and as
    many unseen ones scored (``privacy.attack_members``): :data:`LEAK_AUC`, or 0.5 plus
    three standard deviations of a coin flip's AUC when that is higher (the
    Mann-Whitney null, ``sqrt((2m + 1) / (12 m^2))``; 0.046 at 80 rows, 0.09 at 20).
    ``None`` or NaN (a run from before the count was logged): :data:`LEAK_AUC`."""
    if members is None or not members >= 1:
        return LEAK_AUC
    return max(LEAK_AUC, 0.5 + 3 * chance_spread(members)[0])


def dp_summary(privacy: PrivacyConfig | None) -> str:
    """A paragraph for the verdict of a run trained with DP-SGD (``training.privacy``):
    its budget and what ε does not cover (:data:`~synthbalance.core.dp_scope.NOT_COVERED`,
    docs/privacy.md); ``""`` without DP."""
    if privacy is None:
        return ""
    delta = (f"delta = {privacy.delta:g}" if privacy.delta is not None
             else "delta = 1/(10 n) for n training rows")
    return (f"Private training: DP-SGD trained the generator within epsilon = "
            f"{privacy.epsilon:g}, {delta} (privacy.epsilon in the MLflow run: what it spent, "
            "epoch by epoch). Epsilon covers what the networks learnt from the training "
            "rows, not what the preprocessing took from them (column bounds not declared in "
            "ingest.columns, category sets, quantiles, missing shares: the run's tag "
            "privacy.not_covered, docs/privacy.md). The attack figures above measure these "
            "rows, whatever the budget.")


def privacy_warning(metrics: Mapping[str, float], path: str) -> str:
    """A sentence for the verdict when the synthetic rows give real rows away, else ``""``.

    ``metrics`` are the run's ``privacy.*`` metrics (:func:`synthbalance.core.metrics.privacy`,
    names with the ``privacy.`` prefix); ``path`` is where the synthetic rows are. It warns
    of copies of unique training rows beyond what chance explains
    (``privacy.unique_row_copies_beyond_chance`` above 0: on a table of coarse columns
    fresh real rows land on such rows too, ``privacy.unique_row_chance_share`` of the time)
    and of a membership attack at or above :func:`leak_auc` (``privacy.mia_auc``, over
    ``privacy.attack_members`` rows).
    Training one's own model on them is not the risk; sharing them is.
    """
    found, fixes = [], []
    beyond = int(metrics.get("privacy.unique_row_copies_beyond_chance", 0) or 0)
    if beyond:
        copies = int(metrics.get("privacy.unique_row_copies", beyond))
        chance = float(metrics.get("privacy.unique_row_chance_share", 0.0))
        rows = "row equals" if copies == 1 else "rows equal"
        by_chance = (f"{beyond} more than chance explains (fresh real rows land on such a "
                     f"row {100 * chance:.1f} % of the time)" if chance > 0
                     else "which no real row here does by chance")
        found.append(f"{copies} synthetic {rows} a training row that no other real row "
                     f"equals (privacy.unique_row_copies), {by_chance}")
        fixes.append("drop the rows that copy a unique real row")
    attack = float(metrics.get("privacy.mia_auc", float("nan")))
    members = metrics.get("privacy.attack_members")
    bar = leak_auc(members)
    if attack >= bar:
        scored = (f" over {int(members)} training rows and as many unseen ones"
                  if members is not None and members >= 1 else "")
        found.append(f"a membership attack tells training rows from unseen ones with AUC "
                     f"{attack:.3f} (privacy.mia_auc{scored}; from {bar:.2f} it reads as a "
                     "leak at that count, where a coin flip stays below)")
        fixes.append("train again with fewer steps (a fixed budget: training.epochs=<n> with "
                     "training.patience=null) or with training.privacy, since dropping "
                     "copies does not change what an attack reads")
    if not found:
        return ""
    return (f"Privacy: {'; '.join(found)}. This does not matter for training your own "
            f"model; before you share {path}, {', and '.join(fixes)} "
            "(docs/privacy-attacks.md, \"Before you share synthetic rows\").")


def rows_summary(metrics: Mapping[str, float], path: str) -> str:
    """A paragraph on how the synthetic rows in ``path`` read, for the verdict, else ``""``.

    ``metrics`` are the run's ``detection.*``, ``fidelity.*`` and ``privacy.*`` metrics
    (docs/metrics.md), with their prefixes. Each figure is said beside what it reads when
    nothing gives the rows away: the detector's accuracy beside chance (0.5) and beside
    the same test on real training rows against real test rows
    (``detection.reference_accuracy``, what a perfect generator would score on this many
    rows); each membership attack's AUC and true-positive rate at a 10 % false-positive
    rate beside 0.5 and 0.10. A figure the run did not log (DOMIAS with fewer than 20
    reference rows) is left out, and so is the paragraph when none is there.
    """
    def figure(name: str) -> float | None:
        value = metrics.get(name)
        return float(value) if value is not None and math.isfinite(value) else None

    said = []
    accuracy = figure("detection.accuracy")
    if accuracy is not None:
        low, high = figure("detection.accuracy_low"), figure("detection.accuracy_high")
        interval = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
        scored = figure("detection.scored_rows")
        over = (f" on {int(scored):,} held-out rows, real and synthetic" if scored
                else "")
        reference = figure("detection.reference_accuracy")
        floor = (f"; real training rows score {reference:.3f} in the same test, about "
                 "what a perfect generator would, within the same noise"
                 if reference is not None else "")
        said.append(f"an xgboost classifier tells them from real test rows with accuracy "
                    f"{accuracy:.3f}{interval}{over} (0.5: not at all{floor})")
    distance = figure("fidelity.wasserstein_mean")
    if distance is not None:
        said.append(f"mean per-column distance to the real test rows {distance:.3f} "
                    "(fidelity.wasserstein_mean: in standard deviations for numbers, in "
                    "share of rows for levels; 0: the same)")
    attacks = _attack_words(figure)
    if attacks:
        said.append(attacks)
    if not said:
        return ""
    return (f"The synthetic rows ({path}): {'; '.join(said)}. Every figure: "
            "data/08_reporting/metrics.csv, the MLflow run and docs/metrics.md.")


#: The attack targets of docs/privacy-attacks.md: AUC and TPR at 10 % FPR at most these.
ATTACK_TARGETS = {"AUC": 0.55, "TPR": 0.15}


def _attack_words(figure: Callable[[str], float | None]) -> str:
    """The membership attacks' clause of :func:`rows_summary` (``""`` when none ran): each
    attack's AUC and TPR at 10 % FPR beside what they read when they learn nothing, and,
    when one is above its target (:data:`ATTACK_TARGETS`), whether it is also above what a
    coin flip reaches on this many rows (0.5 or 0.10 plus three standard deviations,
    :func:`~synthbalance.core.metrics.attacks.chance_spread`)."""
    read = {(label, kind): value for label, key in (("DCR", "dcr"), ("DOMIAS", "domias"))
            for kind, name in (("AUC", "auc"), ("TPR", "tpr_at_fpr10"))
            if (value := figure(f"privacy.{key}_{name}")) is not None}
    if not read:
        return ""
    members = figure("privacy.attack_members")
    said = "; ".join(
        f"{label} " + ", ".join(f"{'TPR at 10 % FPR' if kind == 'TPR' else kind} {value:.3f}"
                                for (of, kind), value in read.items() if of == label)
        for label in dict.fromkeys(label for label, _ in read))
    over = f" over {int(members):,} training rows and as many unseen ones" if members else ""
    words = (f"membership attacks{over}: {said} (0.5 and 0.10: they learn nothing; the "
             f"targets are at most {ATTACK_TARGETS['AUC']} and {ATTACK_TARGETS['TPR']}, "
             "docs/privacy-attacks.md)")
    above = [key for key, value in read.items() if value > ATTACK_TARGETS[key[1]]]
    if not above or not members:
        return words
    auc_sd, tpr_sd = chance_spread(members)
    reach = {"AUC": 0.5 + 3 * auc_sd, "TPR": 0.10 + 3 * tpr_sd}
    beyond = [key for key in above if read[key] > reach[key[1]]]
    named = [f"{label} {kind}" for label, kind in (beyond or above)]
    names = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    verb = "is above its target" if len(beyond or above) == 1 else "are above their targets"
    chance = (f"what a coin flip reaches on {int(members):,} rows a side (up to AUC "
              f"{reach['AUC']:.2f} and TPR {reach['TPR']:.2f}: 0.5 and 0.10 plus three "
              "standard deviations)")
    if beyond:
        return (f"{words}; {names} {verb} and above {chance}, so the rows tell something "
                "about the rows they were trained on: read \"Before you share synthetic "
                "rows\" in docs/privacy-attacks.md before you share them")
    return (f"{words}; {names} {verb} but within {chance}, so these figures neither show a "
            "leak nor rule one out: for rows that must stay private, train with "
            "training.privacy (a bound, ε, on what any row can give away; docs/privacy.md) "
            "rather than rely on them")


def _perfect_words(advice: Advice, path: str, proxies: tuple[str, ...],
                   validation_minority: int | None) -> str:
    """The advice when the baseline's validation PR AUC is perfect: a column that gives
    the label away is suspected when ``proxies`` names one; otherwise a perfect ranking of
    few validation minority rows (``validation_minority``) is said to be what separable
    classes give too."""
    rows = (f"all {validation_minority} validation minority rows" if validation_minority
            else "every validation minority row")
    said = ("Advice: do not augment. The classifier trained on the real rows alone already "
            f"ranks {rows} above every other row (validation PR AUC "
            f"{advice.validation_pr_auc_baseline:.4f}; test {advice.pr_auc_baseline:.4f}), "
            "so no arm can raise it on those rows. ")
    if proxies:
        said += ("A score this perfect often means a column gives the label away: the label "
                 "in another form, or a value recorded after the outcome. Here each value of "
                 f"{', '.join(proxies)}, or whether it is filled in, occurs with one class "
                 "only. If a column will not be "
                 f"known when you predict, drop it (ingest.drop_columns=[{', '.join(proxies)}])"
                 " and run again.")
    else:
        said += ("No column gives the label away by itself (ingest checks the values of each "
                 "column with few distinct values, and whether each column is filled in), and "
                 "classes "
                 "that the features separate well rank perfectly too, more often the fewer "
                 "the validation rows. A value recorded after the outcome would do the same: "
                 "if a column will not be known when you predict, drop it "
                 "(ingest.drop_columns) and run again.")
    return (f"{said} Otherwise train on the real rows as they are; they are in "
            f"{path}{_UNMARKED}.")


#: Two README trials read a recall gain wholly above 0 as a contradiction of "do not augment".
_RECALL_NOTE = (" A recall gain above 0 in metrics.csv (utility.*recall_gain) does not "
                "contradict this: recall at the threshold 0.5 rises with any added minority "
                "rows, which shift every score up, while this advice reads how well the "
                "classifier ranks (PR AUC; docs/metrics.md).")


def _advice_words(advice: Advice, path: str, class_weight: float | None,
                  chance: float | None, proxies: tuple[str, ...]) -> str:
    test = (f"on the test split {advice.test_pr_auc_gain:+.4f} "
            f"[{advice.test_pr_auc_gain_low:+.4f}, {advice.test_pr_auc_gain_high:+.4f}]")
    own = (f"synthetic rows at their best, {advice.synthetic_best}"
           if advice.synthetic_best else "")
    validation = (f"validation PR AUC {advice.validation_pr_auc_gain:+.4f} "
                  f"[{advice.validation_pr_auc_gain_low:+.4f}, "
                  f"{advice.validation_pr_auc_gain_high:+.4f}]" + (f" ({own})" if own else ""))
    if advice.arm == "none":
        named = [text for text in (advice.best_rejected
                                   and f"best candidate: {advice.best_rejected}", own) if text]
        best = f" ({'; '.join(named)})" if named else ""
        unsure = (" The best candidate's gain is above 0 but its interval reaches below: the "
                  "validation rows are "
                  "too few to confirm this gain, not proof that there is none (more "
                  "labelled minority rows narrow the interval; a larger "
                  "preprocessing.validation_size does too, at the cost of rows to train on)."
                  if round(advice.rejected_gain, 4) > 0 else "")  # as printed: +0.0000 is none
        random = f", {chance:.4f} ranking at random" if chance is not None else ""
        return (f"Advice: do not augment. No arm raised the validation PR AUC by a gain whose "
                f"95 % interval lies above 0{best}; the intervals hold for every arm and "
                f"every k (the rows an arm adds per minority class) at once.{unsure}"
                f"{_RECALL_NOTE} Train on the real "
                f"rows as they are (baseline test PR AUC {advice.pr_auc_baseline:.4f}{random}); "
                f"they are in {path}{_UNMARKED}.")
    # the test split never chooses, but a reading below 0 there is said
    held = (" On the test split the gain reads below 0: it did not hold on these fresh "
            "rows, so treat it as unconfirmed (the test figures are read after the choice "
            "and never make it; docs/metrics.md)." if advice.test_pr_auc_gain < 0 else "")
    if advice.arm == "class_weights":
        weight = f" = {class_weight:.3g}" if class_weight is not None else ""
        return (f"Advice: weight the classes, add no rows. xgboost scale_pos_weight"
                f"{weight} (negatives / positives): {validation}, {test}.{held} The "
                f"training rows are unchanged in {path}{_UNMARKED}.")
    what = {"random_oversampling": "copies of minority rows (random oversampling)",
            "smote": "SMOTE rows", "synthetic": "synthetic rows"}[advice.arm]
    return (f"Advice: add {advice.k:,} {what} per minority class: {validation}, {test}.{held}"
            f" The augmented training set is {path} (column {ADDED_COLUMN} marks the added "
            "rows).")
