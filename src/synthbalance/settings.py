"""Project settings: https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import os
import sys
from pathlib import Path

from synthbalance.runtime import configure_openmp
from synthbalance.third_party import quiet_third_party_warnings

# Before the hooks below import torch and xgboost: OpenMP reads its wait policy once, when
# it loads (see synthbalance/runtime.py for why runs wait passively by default).
configure_openmp()
quiet_third_party_warnings()
# Where standard error is no terminal (a file, a CI log), a progress bar is a stream of
# carriage returns: MLflow's artifact bar off there, as the project's own bars are.
if sys.stderr is None or not sys.stderr.isatty():  # None: pythonw, no console at all
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from omegaconf import OmegaConf  # noqa: E402

from synthbalance.config_loader import ProjectConfigLoader  # noqa: E402
from synthbalance.grid_hooks import GridHooks  # noqa: E402
from synthbalance.hooks import SynthBalanceHooks  # noqa: E402

HOOKS = (SynthBalanceHooks(), GridHooks())

# OmegaConfigLoader plus ${params:...}, which lets catalog.yml declare raw_table from the
# run's ingest.* parameters (see synthbalance/config_loader.py)
CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # an environment's parameters file overrides the keys it sets, no more: Kedro's default
    # ("destructive") replaces conf/base's whole top-level block, and since it merges
    # --params into each environment first, `--env=mine --params=training.epochs=9` would
    # leave `training` with that key alone
    "merge_strategy": {"parameters": "soft"},
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
        "mlflow": ["mlflow*", "mlflow*/**"],
    },
}

# ${env_or:NAME,default}: an environment variable with a fallback (OmegaConf's own oc.env is
# limited to credentials in Kedro). ${sqlite_here:file}: an absolute SQLite URI in the
# project root; MLflow caches stores by URI, so a relative one could point elsewhere.
# Registered here with OmegaConf's register_resolver(): CONFIG_LOADER_ARGS["custom_resolvers"]
# would go through Kedro's call of the deprecated register_new_resolver() (OmegaConf 2.4).
OmegaConf.register_resolver(
    "env_or", lambda name, default=None: os.environ.get(name, default), replace=True)
OmegaConf.register_resolver(
    "sqlite_here", lambda name: f"sqlite:///{(Path.cwd() / name).as_posix()}", replace=True)
