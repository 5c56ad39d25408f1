"""Fixtures for the model flavors and autologging: every test starts with autologging off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keras 3 runs on the torch backend in these tests (set before keras is first imported).
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


@pytest.fixture(autouse=True)
def autolog_off() -> Iterator[None]:
    """Undo every patch and configuration a test's ``autolog()`` made."""
    from gitrun.integrations.autolog import patching, session
    from gitrun.integrations.transformers import alias

    yield
    for flavor in list(patching.configs):
        patching.unpatch(flavor)
    patching.configs.clear()
    session._warned.clear()
    alias.unregister_mlflow_alias()


def object_count(repo: Path) -> int:
    """Objects in the repository's local artifact store."""
    import gitrun
    from gitrun.tracking.artifacts.stores import stores_for

    return sum(1 for _ in stores_for(gitrun.MlflowClient().store).local.iter_digests())


def runs_of(experiment_id: str = "0") -> list[object]:
    import gitrun

    return list(gitrun.search_runs([experiment_id], output_format="list"))
