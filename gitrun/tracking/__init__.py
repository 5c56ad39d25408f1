"""The tracking API: a stateless client and the fluent functions over it."""

from gitrun.tracking.client import Client, MlflowClient

__all__ = ["Client", "MlflowClient"]
