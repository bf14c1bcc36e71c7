"""Project settings: https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import os

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
    # is limited to credentials in Kedro). Used for MLFLOW_TRACKING_URI in mlflow.yml.
    "custom_resolvers": {"env_or": lambda name, default=None: os.environ.get(name, default)},
}
