"""MLflow "model from code" entry point: MLflow runs this file to build the pyfunc model."""

from mlflow.models import set_model

from synthbalance.mlflow_model import SynthesizerModel

set_model(SynthesizerModel())
