"""Model signatures and descriptors (MLflow's ``mlflow.models``).

``infer_signature(model_input, model_output)`` and ``ModelSignature`` describe what
a model takes and returns; ``get_model_info(uri)`` reads a logged or saved
model's descriptor.
"""

from __future__ import annotations

import os

from gitrun.integrations.models.descriptor import ModelDescriptor
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.signature import ColSpec, ModelSignature, Schema, TensorSpec, infer_signature

__all__ = [
    "ColSpec",
    "ModelDescriptor",
    "ModelInfo",
    "ModelSignature",
    "Schema",
    "TensorSpec",
    "get_model_info",
    "infer_signature",
]


def get_model_info(model_uri: str | os.PathLike[str]) -> ModelInfo:
    """Flavors, signature, requirements (and run, creation time) of the model at ``model_uri``."""
    from gitrun.integrations.models.location import model_info

    return model_info(model_uri)
