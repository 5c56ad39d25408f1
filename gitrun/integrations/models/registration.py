"""``log_model(registered_model_name=...)``: register the model just logged (public API only)."""

from __future__ import annotations

from typing import Any


def register(model_uri: str, name: str) -> Any:
    """A new version of ``name`` (created if needed) for the model at ``model_uri``."""
    from gitrun.tracking.client import Client

    return Client().register_model(model_uri, name)
