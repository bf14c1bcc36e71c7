"""The synthesizer as an MLflow pyfunc model, logged as code (no pickled objects).

>>> model = mlflow.pyfunc.load_model("runs:/<run_id>/generator_conditional")  # doctest: +SKIP
>>> model.predict(pd.DataFrame({"n_rows": [1000], "label": [1], "seed": [7]}))  # doctest: +SKIP

Each input row asks for ``n_rows`` rows of class ``label`` (optional: the model's first
class) with ``seed`` (optional, default 0); the outputs are concatenated. Rows come back
cleaned with the rules fitted on the training rows (bounds, integers, levels).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

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
                "'label' and 'seed' columns), e.g. pd.DataFrame({'n_rows': [1000]})."
            )
        frames = [
            self._synthesizer.sample(
                int(row["n_rows"]),
                label=row.get("label"),
                seed=int(row.get("seed", 0)) if pd.notna(row.get("seed", 0)) else 0,
                clean=True,
            )
            for _, row in model_input.iterrows()
        ]
        return pd.concat(frames, ignore_index=True)


def log_synthesizer(synthesizer: Synthesizer, artifact_path: str) -> None:
    """Log ``synthesizer`` to the active run under ``artifact_path`` as a pyfunc model."""
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "synthesizer.pt"
        synthesizer.save(model_file)
        mlflow.pyfunc.log_model(
            name=artifact_path,
            python_model=str(Path(__file__).with_name("_mlflow_model_code.py")),
            artifacts={"synthesizer": str(model_file)},
            pip_requirements=["synthbalance", "torch", "pandas", "numpy"],
            # MLflow runs the logged model on this example: a check that it loads and samples,
            # and the source of its signature.
            input_example=pd.DataFrame({"n_rows": [3], "seed": [0]}),
        )
