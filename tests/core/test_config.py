"""One schema for every setting: the generator's config and the parameters that hold it."""

from __future__ import annotations

import pytest

from synthbalance.core.config import CONDITIONAL_MODELS, MODEL_NAMES, GeneratorConfig
from synthbalance.core.errors import ConfigError
from synthbalance.core.models import FAMILIES
from synthbalance.params import TrainingParams, parse_params


class _NotAValue:
    def __repr__(self) -> str:
        return "<not a value>"


def test_the_training_section_is_the_generator_config_plus_the_family_choice():
    own = set(TrainingParams.model_fields) - set(GeneratorConfig.model_fields)
    assert own == {"model", "strategy", "check_max_rows"}
    params = parse_params({"training": {"epochs": 7, "hidden_dims": [8, 4], "model": "cvae"}})
    # a run's budget defaults are conf/base's (early stopping on); the Python API's are fixed
    assert params.training.generator_config == GeneratorConfig(
        epochs=7, hidden_dims=(8, 4), check_every="auto", patience=3)
    assert parse_params({}).training.epochs == "auto" and GeneratorConfig().epochs == 300


@pytest.mark.parametrize("key", sorted(GeneratorConfig.model_fields))
def test_every_generator_setting_refuses_a_value_of_the_wrong_type(key):
    """A setting declared without a type (or with ``Any``) would pass here unchecked."""
    with pytest.raises(ConfigError, match=rf"'training.{key}' is <not a value>"):
        parse_params({"training": {key: _NotAValue()}})
    with pytest.raises(ConfigError, match=rf"Generator setting '{key}' is <not a value>"):
        GeneratorConfig.from_dict({key: _NotAValue()})


def test_unknown_keys_name_a_close_match_and_the_valid_keys():
    with pytest.raises(ConfigError, match=r"Unknown generator setting 'epochz'. Did you mean "
                                          r"'epochs'\? Valid keys: .*batch_size"):
        GeneratorConfig.from_dict({"epochz": 3})


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as info:
        parse_params({"training": {"epochs": 0, "device": "tpu"}, "sampling": {"ratio": -1}})
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert any("'training.epochs' is 0" in line for line in lines)
    assert any("'training.device' is 'tpu'" in line for line in lines)
    assert any("'sampling.ratio' is -1" in line for line in lines)


def test_numbers_may_be_written_as_yaml_text_but_never_as_booleans():
    assert GeneratorConfig.from_dict({"vae_lr": "1e-3"}).vae_lr == 1e-3
    with pytest.raises(ConfigError, match="'vae_lr' is True"):
        GeneratorConfig.from_dict({"vae_lr": True})
    with pytest.raises(ConfigError, match="'epochs' is 2.0"):
        GeneratorConfig.from_dict({"epochs": 2.0})


def test_config_round_trips_through_plain_data():
    config = GeneratorConfig(hidden_dims=(16, 8), latent_dim=4)
    assert config.to_dict()["hidden_dims"] == [16, 8]
    assert GeneratorConfig.from_dict(config.to_dict()) == config


def test_family_names_without_torch_match_the_registered_families():
    assert tuple(FAMILIES) == MODEL_NAMES
    assert {n for n, cls in FAMILIES.items() if cls.conditional} == CONDITIONAL_MODELS
