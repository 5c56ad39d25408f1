"""Every kind of store for the artifact store tests: local folders, fsspec
``memory://`` and ``file://``, S3 and GCS (the servers are in tests/servers.py,
shared with the other test packages through tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitrun.core.artifacts.progress import Silent
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import BACKEND_NAMES, StoreSpec
from tests.servers import BUCKET, S3_CREDENTIALS


@pytest.fixture(params=BACKEND_NAMES)
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """A fresh, empty store on each kind of backend."""
    name = request.param
    unique = uuid.uuid4().hex[:12]
    if name == "local":
        return StoreSpec(name, str(tmp_path / "store"))
    if name == "fsspec-file":
        return StoreSpec(name, f"file://{tmp_path / 'store'}")
    if name == "memory":
        return StoreSpec(name, f"memory://gitrun-{unique}")
    if name == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        return StoreSpec(name, f"s3://{BUCKET}/{unique}", {"endpoint_url": endpoint, **S3_CREDENTIALS})
    endpoint = request.getfixturevalue("gcs_endpoint")
    return StoreSpec(
        name, f"gs://{BUCKET}/{unique}", {"endpoint_url": endpoint, "token": "anon", "project": "test"}
    )


@pytest.fixture
def store(store_spec: StoreSpec) -> Iterator[ArtifactStore]:
    yield ArtifactStore(store_spec.open(), progress=Silent())
    if store_spec.name == "memory":
        from fsspec.implementations.memory import MemoryFileSystem

        memory = MemoryFileSystem()
        if memory.exists(store_spec.url):
            memory.rm(store_spec.url, recursive=True)


@pytest.fixture
def local_store(tmp_path: Path) -> ArtifactStore:
    from gitrun.core.artifacts.local import LocalBackend

    return ArtifactStore(LocalBackend(tmp_path / "local-store"), progress=Silent())
