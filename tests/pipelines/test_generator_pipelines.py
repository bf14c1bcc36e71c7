"""Every family through the training, sampling and postprocessing pipelines of Kedro."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import ParquetDataset

from synthbalance.branches import generator_branches
from synthbalance.core.config import MODEL_NAMES, STRATEGIES_BY_MODEL
from synthbalance.core.errors import ConfigError, ModelFileError
from synthbalance.datasets import SynthesizerDataset
from synthbalance.pipelines import postprocessing, sampling, training
from synthbalance.pipelines.ingest.nodes import validate_raw_table
from synthbalance.pipelines.preprocessing.nodes import (
    carve_validation,
    encode_rows,
    fit_transformer,
    split_rows,
)

PREP = {"test_size": 0.3}
TINY = {"epochs": 1, "batch_size": 200, "hidden_dims": [32, 32], "latent_dim": 16,
        "check_every": 1}


@pytest.fixture(scope="module")
def prepared(demo):
    validated, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(validated, schema, PREP, 0)
    transformer = fit_transformer(train, schema, PREP, 0)
    return {"train_rows": train, "train_encoded": encode_rows(train, transformer),
            "transformer": transformer, "schema": schema,
            "validation_rows": carve_validation(train, schema, PREP, 0)}


def _generation(model: str, strategy: str):
    branches = generator_branches({"training": {"model": model, "strategy": strategy}})
    return (training.create_pipeline(branches=branches)
            + sampling.create_pipeline(branches=branches) + postprocessing.create_pipeline())


@pytest.mark.parametrize(("model", "strategy"), [
    *((m, STRATEGIES_BY_MODEL[m][0]) for m in MODEL_NAMES), ("ddpm", "per_class")])
def test_each_family_trains_one_epoch_and_yields_clean_rows(model, strategy, prepared, tmp_path):
    branch = "conditional" if strategy == "conditional" else "minority"
    catalog = DataCatalog({
        **{name: MemoryDataset(value) for name, value in prepared.items()},
        "params:training": MemoryDataset({"model": model, "strategy": strategy, **TINY}),
        "params:sampling": MemoryDataset({"ratio": 1.0}),
        "params:postprocessing": MemoryDataset({}),
        "params:seed": MemoryDataset(0),
        "synthetic_rows": ParquetDataset(filepath=str(tmp_path / "rows.parquet")),
        f"{branch}.generator": SynthesizerDataset(filepath=str(tmp_path / "generator.pt")),
    })
    SequentialRunner().run(_generation(model, strategy), catalog)
    rows = catalog.load("synthetic_rows")
    train = prepared["train_rows"]
    assert len(rows) == (train["outcome"] == 1).sum()
    assert (rows["outcome"] == 1).all()
    assert rows["bad_mental_days"].between(0, 30).all()
    assert set(rows["region"].dropna()) <= set(train["region"].dropna())
    generator = catalog.load(f"{branch}.generator")
    assert generator.generator.name == model and len(generator.generator.history) > 0


def test_a_model_strategy_mismatch_is_one_clear_error(prepared):
    catalog = DataCatalog({
        **{name: MemoryDataset(value) for name, value in prepared.items()},
        "params:training": MemoryDataset({"model": "cgan", "strategy": "per_class", **TINY}),
        "params:seed": MemoryDataset(0),
    })
    with pytest.raises(ConfigError, match="cgan is a conditional family"):
        SequentialRunner().run(
            _generation("gan", "per_class").filter(node_names=["minority.train_generator"]),
            catalog)


def test_saved_generator_reloads_to_identical_samples_and_rejects_a_corrupt_file(
        prepared, tmp_path):
    from synthbalance.pipelines.training.nodes import train_generator

    synthesizer, _, _ = train_generator(
        prepared["train_rows"], prepared["train_encoded"], prepared["transformer"],
        prepared["schema"], prepared["validation_rows"],
        {"model": "cvae", "strategy": "conditional", **TINY}, 0)
    path = tmp_path / "generator.pt"
    dataset = SynthesizerDataset(filepath=str(path))
    dataset.save(synthesizer)
    pd.testing.assert_frame_equal(dataset.load().sample(300, seed=4),
                                  synthesizer.sample(300, seed=4))
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(Exception) as info:
        dataset.load()
    error = info.value.__cause__ or info.value
    assert isinstance(error, ModelFileError) and "corrupt" in str(error)


def test_the_training_histories_are_keyed_by_epoch_for_mlflow(prepared):
    from synthbalance.pipelines.training.nodes import train_generator

    *_, history = train_generator(
        prepared["train_rows"], prepared["train_encoded"], prepared["transformer"],
        prepared["schema"], prepared["validation_rows"],
        {"model": "cvae", "strategy": "conditional", **TINY, "epochs": 3, "check_every": 2},
        0)
    assert list(history["loss.loss"]) == [1, 2, 3]
    assert list(history["check.score"]) == [2, 3]  # every 2nd epoch and the last
    assert "check.epoch" not in history  # it is the step
    assert history["training.epochs_planned"] == history["training.epochs_run"] == 3
    assert history["training.best_epoch"] in (2, 3)  # a checked epoch's weights are kept
    assert 0 < history["training.seconds"] < 600


def test_per_class_with_several_minority_classes_has_a_branch_per_class():
    pipeline = training.create_pipeline(branches=generator_branches({
        "training": {"model": "vae", "strategy": "per_class"},
        "ingest": {"minority_classes": ["b", "c"]}}))
    generators = [n for n in pipeline.nodes if n.name.endswith("train_generator")]
    assert {n.namespace for n in generators} == {"class_b", "class_c"}
    assert {n.name for n in pipeline.nodes} - {n.name for n in generators} == {"privacy_scope"}


@pytest.fixture(scope="module")
def tiny_cvae(prepared):
    from synthbalance.pipelines.training.nodes import train_generator

    synthesizer, _, _ = train_generator(
        prepared["train_rows"], prepared["train_encoded"], prepared["transformer"],
        prepared["schema"], prepared["validation_rows"],
        {"model": "cvae", "strategy": "conditional", **TINY}, 0)
    return synthesizer


def test_sampling_keeps_a_reweighted_choice_of_oversample_times_the_draws(prepared,
                                                                          tiny_cvae):
    from synthbalance.pipelines.sampling.nodes import sample_rows

    synthesizer = tiny_cvae
    args = (synthesizer, prepared["train_rows"], prepared["validation_rows"],
            prepared["schema"])
    n = int((prepared["train_rows"]["outcome"] == 1).sum())
    plain, plain_metrics = sample_rows(*args, {"ratio": 1.0, "oversample": 1}, 0)
    kept, metrics = sample_rows(*args, {"ratio": 1.0}, 0)  # auto: 5 draws per kept row
    draws = synthesizer.sample(5 * n, label=1, seed=0)
    pd.testing.assert_frame_equal(plain, synthesizer.sample(n, label=1, seed=0))
    assert len(kept) == n
    # what MLflow gets: the resolved draws per row, the rows kept, the weights' spread
    assert metrics["sampling.oversample"] == 5 and metrics["sampling.kept_rows"] == n
    assert 0 < metrics["sampling.ess_share"] < 1
    assert plain_metrics["sampling.oversample"] == 1
    assert np.isnan(plain_metrics["sampling.ess_share"])  # nothing weighted, not logged
    # every kept row is one of the draws, and not simply the first n of them
    found = kept.merge(draws.drop_duplicates(), how="left", indicator=True)["_merge"]
    assert (found == "both").all()
    assert not kept.equals(draws.iloc[:n].reset_index(drop=True))


def test_the_resampling_classifier_never_reads_a_validation_row(prepared, tiny_cvae, caplog):
    """Validation rows judge the rows and the advice later: with every minority row but 10
    among them, the class has too few real rows left to reweigh against."""
    from synthbalance.pipelines.sampling.nodes import sample_rows

    train = prepared["train_rows"]
    minority = train[train["outcome"] == 1]
    validation = pd.concat([minority.iloc[10:], train[train["outcome"] == 0].iloc[:50]])
    with caplog.at_level("INFO", logger="synthbalance.core.reweight"):
        rows, _ = sample_rows(tiny_cvae, train, validation, prepared["schema"],
                              {"n_rows": 100}, 0)
    assert len(rows) == 100
    assert "Importance resampling skipped: 10 real rows of the class" in caplog.text
