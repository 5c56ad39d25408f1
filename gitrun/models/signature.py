"""``from mlflow.models.signature import infer_signature`` works as ``gitrun.models.signature``."""

from __future__ import annotations

from gitrun.integrations.models.signature import ColSpec, ModelSignature, Schema, TensorSpec, infer_signature

__all__ = ["ColSpec", "ModelSignature", "Schema", "TensorSpec", "infer_signature"]
