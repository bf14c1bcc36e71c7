"""The synthesizer as an MLflow pyfunc model, logged as code (no pickled objects).

>>> model = mlflow.pyfunc.load_model("runs:/<run_id>/generator_conditional")  # doctest: +SKIP
>>> model.predict(pd.DataFrame({"n_rows": [1000], "label": [1], "seed": [7]}))  # doctest: +SKIP

Each input row asks for ``n_rows`` rows of class ``label`` (optional: the model's first
class) with ``seed`` (optional, default 0); the outputs are concatenated, with fresh ids
numbered on across them. ``id_offset`` (optional) skips that many fresh ids first (default:
0 on the first input row, where the previous row's ids ended on the others): pass the
number of synthetic rows made before to append these to them without repeating an id.
Rows come back cleaned with the rules fitted on the training rows (bounds, integers,
levels).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema

from synthbalance.core.errors import ConfigError
from synthbalance.core.synthesizer import Synthesizer


class SynthesizerModel(PythonModel):
    """pyfunc wrapper: loads the plain-data model file, answers sampling requests."""

    def load_context(self, context: Any) -> None:
        self._synthesizer = Synthesizer.load(context.artifacts["synthesizer"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        if "n_rows" not in model_input.columns:
            raise ConfigError(
                "The generator model takes a frame with an 'n_rows' column (and optional "
                "'label', 'seed' and 'id_offset' columns), e.g. "
                "pd.DataFrame({'n_rows': [1000]})."
            )
        frames, offset = [], 0
        for _, row in model_input.iterrows():
            offset = _whole(row, "id_offset", offset)
            frames.append(self._synthesizer.sample(
                int(row["n_rows"]), label=row.get("label"), seed=_whole(row, "seed", 0),
                clean=True, id_offset=offset))
            offset += len(frames[-1])
        return pd.concat(frames, ignore_index=True)


def _whole(row: pd.Series, name: str, default: int) -> int:
    """The whole number in ``row[name]``, or ``default`` where it is absent or missing."""
    value = row.get(name)
    return default if value is None or pd.isna(value) else int(value)


def log_synthesizer(synthesizer: Synthesizer, artifact_path: str) -> str:
    """Log ``synthesizer`` to the active run under ``artifact_path`` as a pyfunc model.

    Returns:
        The logged model's id (an MLflow 3 ``LoggedModel``), to link metrics to it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "synthesizer.pt"
        synthesizer.save(model_file)
        info = mlflow.pyfunc.log_model(
            name=artifact_path,
            python_model=str(Path(__file__).with_name("_mlflow_model_code.py")),
            artifacts={"synthesizer": str(model_file)},
            pip_requirements=["synthbalance", "torch", "pandas", "numpy"],
            signature=model_signature(synthesizer),
            # MLflow runs the logged model on this example: a check that it loads and samples
            input_example=pd.DataFrame({"n_rows": [3], "seed": [0]}),
        )
    return info.model_id


def model_signature(synthesizer: Synthesizer) -> ModelSignature:
    """The model's declared inputs (``n_rows``; optional ``seed``, ``label`` and
    ``id_offset``) and outputs
    (the table's columns).

    Declared rather than inferred from an example: an inferred one would leave ``label``
    out (MLflow then drops it from every request) and types its outputs from five rows.
    Integer outputs are declared ``double``, since a column with missing values comes back
    as floats (MLflow's advice: https://mlflow.org/docs/latest/ml/model/signatures/).
    """
    label = pd.Series(list(synthesizer.classes))
    inputs = Schema([
        ColSpec("long", "n_rows"),
        ColSpec("long", "seed", required=False),
        ColSpec("long", "id_offset", required=False),
        ColSpec("long" if label.dtype.kind in "iu" else _mlflow_type(label), "label",
                required=False),
    ])
    rows = synthesizer.sample(2, seed=0, clean=True)
    outputs = Schema([ColSpec(_mlflow_type(rows[c]), str(c)) for c in rows.columns])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _mlflow_type(values: pd.Series) -> str:
    kinds = {"b": "boolean", "i": "double", "u": "double", "f": "double", "M": "datetime"}
    return kinds.get(values.dtype.kind, "string")
