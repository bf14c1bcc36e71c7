"""The project's configuration loader: Kedro's ``OmegaConfigLoader`` plus ``${params:...}``.

``raw_table`` is declared in ``conf/base/catalog.yml`` and must follow ``ingest.source``
wherever it is set. Kedro's own ``${runtime_params:key, default}`` sees only ``kedro run
--params``, not the parameters files, and ``conf/brfss`` sets ``ingest.source`` in a
parameters file. ``${params:ingest.source}`` reads the run's parameters instead: base, then
the run's environment, then ``--params`` on top, checked by the parameter schema
(:mod:`synthbalance.params`), so a key left unset has the schema's default. The catalog
entry, the nodes and the logged MLflow parameters thus see one value.
"""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf
from pydantic import BaseModel

from synthbalance.core.errors import ConfigError
from synthbalance.params import parse_params


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` with a ``params`` resolver: ``${params:ingest.source}``.

    ``${params:key}`` is the checked value of the dotted parameter ``key``; a section such
    as ``ingest.read_options`` comes as a dict of the options the user set.

    Raises:
        ConfigError: the parameters do not pass the schema, or ``key`` is not one of them
            (raised while the catalog is read, wrapped by OmegaConf with the key's place).
    """

    def __getitem__(self, key: str) -> dict[str, Any]:
        # Resolvers are process-wide; registering on each read makes the loader that
        # resolves the catalog answer with its own parameters (Kedro does the same for
        # runtime_params, for the same reason).
        OmegaConf.register_resolver("params", self._parameter, replace=True,
                                    annotation_validation="off")
        return super().__getitem__(key)

    def _parameter(self, key: str) -> Any:
        value: Any = parse_params(self["parameters"])
        for part in key.split("."):
            if not isinstance(value, BaseModel) or part not in type(value).model_fields:
                raise ConfigError(
                    f"The catalog reads ${{params:{key}}}, but {key!r} is not a parameter "
                    "of synthbalance.params; fix the name in conf/*/catalog.yml."
                )
            value = getattr(value, part)
        return value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else value
