"""Project settings: https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import os
from pathlib import Path

from kedro.config import OmegaConfigLoader

from synthbalance.hooks import SynthBalanceHooks

HOOKS = (SynthBalanceHooks(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
        "mlflow": ["mlflow*", "mlflow*/**"],
    },
    # ${env_or:NAME,default}: an environment variable with a fallback (OmegaConf's own oc.env
    # is limited to credentials in Kedro). ${sqlite_here:file}: an absolute SQLite URI in the
    # project root; MLflow caches stores by URI, so a relative one could point elsewhere.
    "custom_resolvers": {
        "env_or": lambda name, default=None: os.environ.get(name, default),
        "sqlite_here": lambda name: f"sqlite:///{(Path.cwd() / name).as_posix()}",
    },
}
