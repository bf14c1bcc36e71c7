"""Parameters are a schema: a typo or a wrong type fails at once, naming the key."""

from __future__ import annotations

import pytest

from synthbalance.core.errors import ConfigError
from synthbalance.params import parse_params


def test_defaults_parse():
    params = parse_params({"seed": 1})
    assert params.training.model in ("wcgan_gp", "cvae", "cgan")
    assert params.ingest.source == "demo" and params.ingest.name == "demo"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"trainig": {}}, r"Unknown parameter 'trainig'.*Did you mean 'training'"),
        ({"training": {"epcohs": 3}}, r"epcohs.*epochs"),
        ({"ingest": {"sorce": "x.csv"}}, r"'ingest.sorce'.*Did you mean 'ingest.source'"),
        ({"ingest": {"read_options": {"seperator": ";"}}},
         r"Unknown parameter 'ingest.read_options.seperator'.*Valid keys of "
         r"'ingest.read_options': .*sep"),
        ({"ingest": {"columns": {"x": {"knd": "count"}}}},
         r"'ingest.columns.x.knd'. Did you mean 'ingest.columns.x.kind'"),
        ({"preprocessing": {"test_size": "big"}},
         r"'preprocessing.test_size' is 'big'; it must be a valid number. Fix it in "
         r"conf/base/parameters_preprocessing.yml"),
        ({"preprocessing": {"test_size": 1.5}},
         r"'preprocessing.test_size' is 1.5; it must be less than 1"),
        ({"evaluation": {"seeds": True}}, r"'evaluation.seeds' is True; it must be a valid int"),
        ({"evaluation": {"k_ratios": [1, -2]}}, r"'evaluation.k_ratios\[1\]' is -2"),
        ({"evaluation": {"deployment_prevalence": 1.5}},
         r"'evaluation.deployment_prevalence' is 1.5; it must be a share between 0 and 1 "
         r"\(e.g. 0.02\), or a mapping of minority classes to shares \(\{1: 0.02\}\)\. Fix"),
        # a mapping with a bad share: only that entry is named, not "it must be a number"
        ({"evaluation": {"deployment_prevalence": {"a": 2}}},
         r"^Parameter 'evaluation.deployment_prevalence.a' is 2; it must be less than 1\. "
         r"Fix it in conf/base/parameters_evaluation.yml or with --params\.$"),
        ({"seed": -1}, r"'seed' is -1; it must be greater than or equal to 0.*parameters.yml"),
        ({"training": {"model": "wgan"}}, r"'training.model' is 'wgan'.*Did you mean.*Use one of"),
        ({"training": {"model": "cgan", "strategy": "per_class"}},
         r"cgan is a conditional family.*training.strategy=conditional"),
        ({"training": {"model": "vae", "strategy": "conditional"}},
         r"vae is an unconditional family.*training.strategy=per_class"),
        ({"ingest": {"source": "data/01_raw/x.csv"}}, r"ingest.target is not set"),
        ({"training": {"epochs": 0}}, r"'training.epochs' is 0; it must be greater than 0"),
        ({"training": {"hidden_dims": [32, 0]}}, r"'training.hidden_dims\[1\]' is 0"),
        ({"training": {"device": "tpu"}}, r"'training.device' is 'tpu'.*auto, cpu, cuda"),
        ({"sampling": {"precision": "fp16"}}, r"'sampling.precision' is 'fp16'.*bfloat16"),
        ({"ingest": "x"}, r"'ingest' is 'x'; it must be a mapping"),
        ({"postprocessing": {"decimals": "maybe"}},
         r"^Parameter 'postprocessing.decimals' is 'maybe'; it must be true or false\. Fix it "
         r"in conf/base/parameters_postprocessing.yml"),
        ({"evaluation": {"compare_profile": 1}},
         r"'evaluation.compare_profile' is 1; it must be true or false\."),
    ],
)
def test_bad_parameters_fail_with_the_key_named(params, message):
    with pytest.raises(ConfigError, match=message):
        parse_params(params)


def test_sampling_batch_default_is_the_generators_default():
    from synthbalance.core.models import SAMPLE_BATCH

    assert parse_params({}).sampling.batch_size == SAMPLE_BATCH


def test_dataset_name_defaults_to_the_file_stem():
    params = parse_params({"ingest": {"source": "s3://bucket/fraud_2024.csv.gz", "target": "y"}})
    assert params.ingest.name == "fraud_2024"


def test_ddpm_takes_either_strategy():
    for strategy in ("conditional", "per_class"):
        params = parse_params({"training": {"model": "ddpm", "strategy": strategy}})
        assert params.training.strategy == strategy


def test_every_shipped_parameter_is_the_schema_default():
    """A key left out of every parameters file gets the value conf/base ships (docs:
    own-data.md), so the schema's defaults and conf/base agree."""
    from pathlib import Path

    import yaml

    shipped: dict = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "conf/base").glob(
            "parameters*.yml")):
        shipped.update(yaml.safe_load(path.read_text()) or {})
    assert parse_params(shipped).model_dump() == parse_params({}).model_dump()


def test_the_shipped_budget_follows_the_data_and_stops_early():
    """conf/base trains a step budget (issue 13, item 3): more rows get more steps, within
    [BUDGET_MIN, BUDGET_MAX], ten checks over them, and the periodic check ends a run that
    stopped improving."""
    from pathlib import Path

    import yaml

    from synthbalance.core.config import AUTO_CHECKS, BUDGET_MAX, BUDGET_MIN, planned_epochs

    conf = Path(__file__).resolve().parents[1] / "conf/base/parameters_training.yml"
    config = parse_params({"seed": 0, **yaml.safe_load(conf.read_text())}).training
    config = config.generator_config
    assert config.patience is not None
    steps = {}
    for rows in (1_000, 20_000, 300_000):
        per_epoch = rows // config.batch_size
        epochs, every = planned_epochs(config, rows, 100, per_epoch)
        steps[rows] = epochs * per_epoch
        assert every == max(1, round(epochs / AUTO_CHECKS))
    assert BUDGET_MIN <= steps[1_000] < steps[20_000] < steps[300_000] <= BUDGET_MAX + 600


def test_oversample_is_bounded_and_refused_with_dp_before_anything_trains():
    assert parse_params({"sampling": {"oversample": 100}}).sampling.oversample == 100
    for bad in (0, 101, 2.5, "abc"):
        with pytest.raises(ConfigError, match=r"'sampling.oversample' is .*; it must be a "
                                              r"whole number of draws per kept row from 1"):
            parse_params({"sampling": {"oversample": bad}})
    dp = {"training": {"privacy": {"epsilon": 4.0}}}
    assert parse_params(dp).sampling.oversample == "auto"
    with pytest.raises(ConfigError, match=r"sampling.oversample=3 reweights the rows of a "
                                          r"generator trained with training.privacy"):
        parse_params({**dp, "sampling": {"oversample": 3}})
