"""``raw_table`` is declared in the catalog and follows ``ingest.*`` wherever it is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from synthbalance.core.demo import make_demo_table


def _raw_table(project: Path, env: str | None = None, params: dict[str, Any] | None = None):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env,
                             runtime_params=params or {}) as session:
        return session.load_context().catalog.get("raw_table")


def test_the_base_parameters_give_the_demo_table_of_their_size_and_seed(project):
    table = _raw_table(project, params={"ingest": {"demo_rows": 300}, "seed": 5}).load()
    pd.testing.assert_frame_equal(table, make_demo_table(300, 5))


def test_an_environment_s_parameters_file_names_the_source(project):
    with pytest.raises(DatasetError, match="diabetes_binary_health_indicators.*does not exist"):
        _raw_table(project, env="brfss").load()


def test_params_on_the_command_line_override_the_environment(project):
    path = project / "outside" / "rows.csv"
    path.parent.mkdir()
    path.write_text("a;label\n1;0\n2;1\n")
    params = {"ingest": {"source": str(path), "target": "label",
                         "read_options": {"sep": ";"}}}
    table = _raw_table(project, env="brfss", params=params).load()
    assert list(table.columns) == ["a", "label"] and len(table) == 2


def test_sampling_metrics_are_prefixed_by_their_branch_unless_it_is_the_usual_one(project):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        catalog = session.load_context().catalog
        prefixes = {name: catalog.get(f"{name}.sampling_metrics")._describe()["prefix"]
                    for name in ("conditional", "minority", "class_b")}
    assert prefixes == {"conditional": None, "minority": None, "class_b": "class_b"}
