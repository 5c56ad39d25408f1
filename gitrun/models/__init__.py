"""Model signatures and descriptors (MLflow's ``mlflow.models``).

``infer_signature(model_input, model_output)`` and ``ModelSignature`` describe what
a model takes and returns; ``get_model_info(uri)`` reads a logged or saved
model's descriptor.
"""

from __future__ import annotations

import os
from typing import Any

from gitrun.integrations.models.descriptor import ModelDescriptor
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.signature import ColSpec, ModelSignature, Schema, TensorSpec, infer_signature

_EVALUATION = (
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "MetricThreshold",
    "MetricValue",
    "ModelValidationFailedException",
)


def __getattr__(name: str) -> object:
    # Evaluation classes live with the evaluator; imported on first use only.
    if name in _EVALUATION:
        import importlib

        module = "evaluate" if name in ("EvaluationArtifact", "EvaluationResult") else "custom"
        return getattr(importlib.import_module(f"gitrun.integrations.evaluation.{module}"), name)
    raise AttributeError(f"module 'gitrun.models' has no attribute {name!r}")


def evaluate(model: Any = None, data: Any = None, **kwargs: Any) -> Any:
    """Evaluate a classifier or regressor and log metrics and plots (MLflow's ``evaluate``).

    See :func:`gitrun.integrations.evaluation.evaluate.evaluate` and docs/evaluation.md.
    """
    from gitrun.integrations.evaluation.evaluate import evaluate as run

    return run(model, data, **kwargs)


def make_metric(**kwargs: Any) -> Any:
    """A custom metric for ``evaluate(extra_metrics=[...])`` (MLflow's ``make_metric``)."""
    from gitrun.integrations.evaluation.custom import make_metric as make

    return make(**kwargs)


def set_model(model: Any) -> None:
    """Name the model a models-from-code file defines (MLflow's ``mlflow.models.set_model``)."""
    from gitrun.integrations.pyfunc.code_model import set_model as record

    record(model)


__all__ = [
    "ColSpec",
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "MetricThreshold",
    "MetricValue",
    "ModelDescriptor",
    "ModelInfo",
    "ModelSignature",
    "ModelValidationFailedException",
    "Schema",
    "TensorSpec",
    "evaluate",
    "get_model_info",
    "infer_signature",
    "make_metric",
    "set_model",
]


def get_model_info(model_uri: str | os.PathLike[str]) -> ModelInfo:
    """Flavors, signature, requirements (and run, creation time) of the model at ``model_uri``."""
    from gitrun.integrations.models.location import model_info

    return model_info(model_uri)
