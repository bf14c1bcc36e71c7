"""The privacy attacks have power: they catch a generator that memorises its training rows,
and read chance on rows it never saw. Also the exact-copy floor and the identifier check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.demo import make_demo_table
from synthbalance.core.metrics import privacy, real_identifier_values, unique_copy_mask
from synthbalance.core.metrics.attacks import tpr_at_fpr
from synthbalance.core.schema import infer_schema
from synthbalance.core.validation import validate_table
from synthbalance.pipelines.evaluation.nodes import evaluate_privacy

ATTACKS = ("dcr", "domias")


@pytest.fixture(scope="module")
def demo():
    """The demo table's minority rows, shuffled: 300 members, 300 non-members, 600
    reference rows, 900 more from the same population, and the schema."""
    table, schema = validate_table(make_demo_table(20_000, seed=3), "outcome")
    rows = table[table["outcome"] == 1].sample(frac=1.0, random_state=0)
    cuts = np.cumsum([0, 300, 300, 600, 900])
    return (*(rows.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)), schema)


def _near_copies(rows: pd.DataFrame, schema, seed: int) -> pd.DataFrame:
    """Three noisy copies of ``rows``: every continuous value moved by 0.1 of its column's
    standard deviation, so no synthetic row equals a member."""
    rng = np.random.default_rng(seed)
    copies = pd.concat([rows] * 3, ignore_index=True)
    moved = {c.name: copies[c.name] + rng.normal(0, 0.1 * rows[c.name].std(), len(copies))
             for c in schema.columns if c.kind == "continuous"}
    return copies.assign(**moved)


def test_each_attack_catches_a_memorising_generator(demo):
    members, non_members, reference, _, schema = demo
    result = privacy(members, non_members, _near_copies(members, schema, 1), reference,
                     schema, seed=0)
    assert result["exact_copies"] == 0  # near-copies: counting copies alone misses them
    for attack in ATTACKS:
        assert result[f"{attack}_auc"] >= 0.8, attack
        assert result[f"{attack}_tpr_at_fpr10"] >= 0.4, attack
    assert result["mia_auc"] == max(result["dcr_auc"], result["domias_auc"])
    assert result["attack_members"] == 300
    fewer = privacy(members, non_members.iloc[:120], members, reference, schema, seed=0)
    assert fewer["attack_members"] == 120  # as many members as non-members


def test_each_attack_reads_chance_on_an_independent_sample(demo):
    members, non_members, reference, fresh, schema = demo
    result = privacy(members, non_members, fresh, reference, schema, seed=0)
    for attack in ATTACKS:
        assert 0.40 <= result[f"{attack}_auc"] <= 0.60, attack
        assert 0.0 <= result[f"{attack}_tpr_at_fpr10"] <= 0.2, attack


def test_domias_needs_reference_rows(demo):
    members, non_members, _, fresh, schema = demo
    result = privacy(members, non_members, fresh, None, schema, seed=0)
    assert np.isnan(result["domias_auc"]) and np.isnan(result["domias_tpr_at_fpr10"])
    assert result["mia_auc"] == result["dcr_auc"]


def test_tpr_at_fpr_reads_the_roc_curve():
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    perfect = np.arange(len(labels))[::-1].astype(float)
    assert tpr_at_fpr(labels, perfect, 0.1) == 1.0
    assert tpr_at_fpr(labels, -perfect, 0.1) == 0.0
    # members ranked 1st, 3rd, 5th, 14th: at FPR 0.1 (1 of 10 non-members) 2 of 4 caught,
    # the curve stays at 0.5 until FPR 0.2, where the third member comes
    scores = -np.array([0, 2, 4, 13, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12], dtype=float)
    assert tpr_at_fpr(labels, scores, 0.1) == pytest.approx(0.5)
    assert tpr_at_fpr(labels, scores, 0.15) == pytest.approx(0.5)
    assert tpr_at_fpr(labels, scores, 0.05) == pytest.approx(0.25)
    # tied scores: the curve is the diagonal between its points
    assert tpr_at_fpr(np.array([1, 0]), np.zeros(2), 0.1) == pytest.approx(0.1)


def test_copies_are_read_against_the_holdout_floor_and_unique_rows():
    """On a table of few discrete values, fresh real rows equal training rows by chance;
    a copy of a row no other real row has is counted on its own."""
    rng = np.random.default_rng(0)

    def rows(n):
        return pd.DataFrame({"a": rng.integers(0, 3, n), "b": rng.choice(["u", "v"], n),
                             "y": 1})

    train, holdout = rows(200), rows(200)
    unique = pd.DataFrame({"a": [7], "b": ["u"], "y": [1]})
    train = pd.concat([train, unique], ignore_index=True)
    schema = infer_schema(pd.concat([train, rows(200).assign(y=0)]), "y")
    synth = pd.concat([rows(100), unique, unique], ignore_index=True)
    result = privacy(train, holdout, synth, None, schema, seed=0)
    assert result["holdout_exact_copy_share"] == 1.0  # 6 combinations, all seen in training
    assert result["exact_copies"] == 102
    assert result["unique_row_copies"] == 2
    with_twin = privacy(train, pd.concat([holdout, unique]), synth, None, schema, seed=0)
    assert with_twin["unique_row_copies"] == 0  # a real twin: the copy explains nothing


def test_unique_row_copies_are_read_against_the_chance_of_fresh_rows():
    """On coarse columns, rows drawn afresh land on unique training rows by chance; only
    copies beyond that chance count as given back. On a continuous column none does."""
    rng = np.random.default_rng(0)

    def coarse(n, y=1):
        return pd.DataFrame({"t": np.round(rng.normal(37, 0.5, n), 1),
                             "c": rng.integers(0, 4, n), "k": rng.choice(list("abcde"), n),
                             "yn": rng.integers(0, 2, n), "y": y})

    train, holdout, reference = coarse(400), coarse(150), coarse(100)
    schema = infer_schema(pd.concat([train, coarse(400, 0)]), "y")
    fresh = privacy(train, holdout, coarse(600), reference, schema, seed=0)
    assert fresh["unique_row_copies"] > 30 and fresh["unique_row_chance_share"] > 0.05
    assert fresh["unique_row_copies_beyond_chance"] == 0
    copied = privacy(train, holdout, train.sample(600, replace=True, random_state=0),
                     reference, schema, seed=0)
    assert copied["unique_row_copies_beyond_chance"] > 50
    assert copied["unique_row_chance_share"] == fresh["unique_row_chance_share"]
    # the chance share, by hand: a real row whose key is on exactly one other real row,
    # a training row
    real = pd.concat([train, holdout, reference], ignore_index=True)
    keys = real[["t", "c", "k", "yn"]].astype(str).agg("|".join, axis=1)
    counts, is_train = keys.map(keys.value_counts()), np.arange(len(real)) < len(train)
    train_counts = keys.map(keys[is_train].value_counts()).fillna(0)
    by_hand = ((counts == 2) & (train_counts - is_train == 1)).mean()
    assert fresh["unique_row_chance_share"] == pytest.approx(by_hand)
    cont = pd.DataFrame({"x": rng.normal(size=400), "y": 1})
    schema = infer_schema(pd.concat([cont, cont.assign(y=0, x=rng.normal(size=400))]), "y")
    one = privacy(cont, cont.assign(x=rng.normal(size=400)), cont.iloc[:1], None, schema, 0)
    assert one["unique_row_chance_share"] == 0 and one["unique_row_copies_beyond_chance"] == 1


def test_the_rows_to_drop_before_sharing_are_copies_of_unique_real_rows():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"a": rng.permutation(1000)[:300], "y": 1})
    real = pd.concat([real, real.iloc[:5]], ignore_index=True)  # 5 rows with a twin
    schema = infer_schema(pd.concat([real, real.assign(y=0)]), "y")
    rows = pd.concat([real.iloc[:5], real.iloc[100:110],
                      pd.DataFrame({"a": [5000, 6000], "y": 1})], ignore_index=True)
    marked = unique_copy_mask(real, rows, schema)
    assert marked.tolist() == [False] * 5 + [True] * 10 + [False] * 2


def test_real_identifier_values_are_counted():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"id": [f"C-{i:04d}" for i in range(300)],
                         "x": rng.normal(size=300), "y": rng.integers(0, 2, 300)})
    schema = infer_schema(real, "y")
    assert [c.name for c in schema.of_unlearned("identifier")] == ["id"]
    fresh = real.iloc[:50].assign(id=[f"C-{i:04d}" for i in range(300, 350)])
    leaked = real.iloc[:50].assign(id=real["id"].iloc[::-1].iloc[:50].to_numpy())
    assert real_identifier_values(fresh, schema, real) == 0
    assert real_identifier_values(leaked, schema, real) == 50
    assert real_identifier_values(leaked.drop(columns="id"), schema, real) == 0


def test_the_privacy_node_logs_the_attacks_and_the_identifier_check():
    table = make_demo_table(4000, seed=1).reset_index(names="customer")
    table["customer"] = [f"C-{i:05d}" for i in table["customer"]]
    validated, schema = validate_table(table, "outcome")
    train, test = validated.iloc[:3000], validated.iloc[3000:]
    validation, held_back = train.iloc[::5], train.iloc[:0]
    members = train.drop(index=validation.index)
    synthetic = members[members["outcome"] == 1]  # the members, real ids and all
    params = {"max_rows": 5000}
    metrics = evaluate_privacy(train, validation, test, held_back, synthetic, schema, params, 0)
    assert metrics["privacy.real_identifier_values"] == len(synthetic)
    for name in ("domias_auc", "domias_tpr_at_fpr10", "dcr_auc", "dcr_tpr_at_fpr10",
                 "exact_copy_share", "holdout_exact_copy_share", "unique_row_copies"):
        assert np.isfinite(metrics[f"privacy.{name}"]), name
    assert metrics["privacy.dcr_auc"] > 0.8 and metrics["privacy.domias_auc"] > 0.6
    positives = (test["outcome"] == 1).sum()  # members and as many test positives
    assert metrics["privacy.attack_members"] == min(len(synthetic), positives)
