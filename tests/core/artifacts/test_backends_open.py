"""Choosing a backend from a URL, and the errors on the way."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gitrun.core.artifacts.backend import open_backend
from gitrun.core.artifacts.digest import hash_bytes
from gitrun.core.artifacts.fsspec_backend import FsspecBackend
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.errors import InvalidParameterValue, StoreUnavailable
from tests.core.artifacts.conftest import BUCKET, S3_CREDENTIALS

ROOT = Path(__file__).resolve().parents[3]


def test_paths_and_file_urls_open_local_folders(tmp_path: Path) -> None:
    for url in (str(tmp_path / "a"), f"file://{tmp_path / 'b'}"):
        backend = open_backend(url)
        assert isinstance(backend, LocalBackend)
        assert backend.root == Path(url.removeprefix("file://"))


def test_other_urls_open_fsspec() -> None:
    backend = open_backend("memory://gitrun-open-test")
    assert isinstance(backend, FsspecBackend)
    assert backend.url == "memory://gitrun-open-test"


def test_unknown_protocol_is_a_clear_error() -> None:
    with pytest.raises(InvalidParameterValue, match="nosuchfs://bucket"):
        open_backend("nosuchfs://bucket/prefix")


def test_options_for_a_local_store_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="endpoint_url"):
        open_backend(str(tmp_path), {"endpoint_url": "http://x"})


def test_empty_url_is_refused() -> None:
    with pytest.raises(InvalidParameterValue):
        open_backend("")


@pytest.mark.parametrize(
    ("url", "module", "extra"), [("s3://b/p", "s3fs", "s3"), ("gs://b/p", "gcsfs", "gcs")]
)
def test_missing_client_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(StoreUnavailable, match=rf"pip install 'gitrun\[{extra}\]'"):
        open_backend(url)


def test_credentials_in_a_url_are_not_shown() -> None:
    backend = FsspecBackend("memory://user:hunter2@gitrun-creds")
    assert "hunter2" not in backend.url


def test_unreachable_s3_endpoint_is_store_unavailable() -> None:
    pytest.importorskip("s3fs")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens
    options = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        **S3_CREDENTIALS,
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
    }
    store = ArtifactStore(open_backend("s3://bucket/prefix", options))
    with pytest.raises(StoreUnavailable, match=r"store s3://bucket/prefix failed while listing"):
        store.has_many([hash_bytes(b"a"), hash_bytes(b"b")])
    with pytest.raises(StoreUnavailable, match="uploading"):
        store.put_bytes(b"a")


def test_missing_bucket_is_store_unavailable(s3_endpoint: str) -> None:
    store = ArtifactStore(
        open_backend("s3://no-such-bucket/p", {"endpoint_url": s3_endpoint, **S3_CREDENTIALS})
    )
    with pytest.raises(StoreUnavailable, match="s3://no-such-bucket/p"):
        list(store.iter_digests())
    assert BUCKET != "no-such-bucket"


def test_local_store_that_cannot_be_created_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    store = ArtifactStore(LocalBackend(tmp_path / "a-file" / "store"))
    with pytest.raises(StoreUnavailable, match="a-file/store"):
        store.put_bytes(b"x")
    assert store.has_many([hash_bytes(b"x")]) == set()


def test_importing_the_package_loads_no_storage_client() -> None:
    code = (
        "import sys, gitrun.core.artifacts\n"
        "heavy = ('fsspec', 's3fs', 'gcsfs', 'tqdm', 'botocore', 'aiohttp')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
