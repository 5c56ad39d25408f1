"""The contract every backend keeps, run against each real backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import hash_bytes
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from tests.core.artifacts.stores import StoreSpec, make_file


def key_of(data: bytes) -> str:
    return layout.object_key(hash_bytes(data))


def test_put_bytes_is_create_only(store: ArtifactStore) -> None:
    backend = store.backend
    key = key_of(b"first")
    assert backend.put_bytes(key, b"first") is True
    assert backend.put_bytes(key, b"other bytes") is False
    with backend.open_read(key) as raw:
        assert raw.read() == b"first"
    assert backend.size(key) == 5


def test_put_file_is_create_only(store: ArtifactStore, tmp_path: Path) -> None:
    backend = store.backend
    first = make_file(tmp_path / "a", 1000, seed=1)
    second = make_file(tmp_path / "b", 2000, seed=2)
    key = key_of(first.read_bytes())
    progress: list[int] = []
    assert backend.put_file(key, first, progress.append) is True
    assert backend.put_file(key, second) is False
    assert backend.size(key) == 1000
    with backend.open_read(key) as raw:
        assert raw.read() == first.read_bytes()


def test_large_put_file_is_create_only(store_spec: StoreSpec, store: ArtifactStore, tmp_path: Path) -> None:
    """Multipart / resumable uploads keep the create-only precondition."""
    if store_spec.name == "gcs":
        pytest.xfail(
            "fake-gcs-server ignores ifGenerationMatch=0 on resumable uploads (real GCS honours it); "
            "ArtifactStore checks existence first, so it never relies on it"
        )
    backend = store.backend
    big = make_file(tmp_path / "big", 20 * 2**20, seed=3)
    other = make_file(tmp_path / "other", 20 * 2**20, seed=4)
    key = key_of(big.read_bytes())
    assert backend.put_file(key, big) is True
    assert backend.put_file(key, other) is False
    with backend.open_read(key) as raw:
        head = raw.read(1 << 16)
    assert head == big.read_bytes()[: 1 << 16]


def test_exists_many_in_one_folder_and_across_many(store: ArtifactStore) -> None:
    backend = store.backend
    stored = [f"blob {i}".encode() for i in range(40)]
    for data in stored:
        backend.put_bytes(key_of(data), data)
    absent = [key_of(f"absent {i}".encode()) for i in range(40)]
    wanted = [key_of(d) for d in stored] + absent
    assert backend.exists_many(wanted) == {key_of(d) for d in stored}
    assert backend.exists_many(absent) == set()
    assert backend.exists_many([]) == set()
    assert backend.exists_many([key_of(stored[0])]) == {key_of(stored[0])}
    assert backend.exists_many([key_of(stored[0]), absent[0]]) == {key_of(stored[0])}


def test_exists_many_ignores_partial_uploads(store: ArtifactStore) -> None:
    key = key_of(b"partial")
    temp = layout.temp_key_beside(key)
    store.backend.put_bytes(temp, b"par")
    assert store.backend.exists_many([key]) == set()
    assert store.backend.exists_many([key, key_of(b"nope")]) == set()


def test_missing_keys_raise_resource_does_not_exist(store: ArtifactStore) -> None:
    backend = store.backend
    key = key_of(b"never stored")
    with pytest.raises(ResourceDoesNotExist, match=backend.url.split("://")[-1]):
        backend.open_read(key)
    with pytest.raises(ResourceDoesNotExist):
        backend.size(key)
    with pytest.raises(ResourceDoesNotExist):
        backend.move(key, "quarantine/x")


def test_delete_is_idempotent(store: ArtifactStore) -> None:
    backend = store.backend
    key = key_of(b"to delete")
    backend.put_bytes(key, b"to delete")
    backend.delete(key)
    backend.delete(key)
    assert backend.exists_many([key]) == set()
    assert backend.put_bytes(key, b"to delete") is True


def test_move_and_iter_keys(store: ArtifactStore) -> None:
    backend = store.backend
    keys = {key_of(bytes([i])) for i in range(5)}
    for i, key in enumerate(sorted(keys)):
        backend.put_bytes(key, bytes([i]))
    assert set(backend.iter_keys("objects")) == keys
    moved = sorted(keys)[0]
    backend.move(moved, "quarantine/sha256/moved")
    assert set(backend.iter_keys("objects")) == keys - {moved}
    assert set(backend.iter_keys("quarantine")) == {"quarantine/sha256/moved"}
    assert set(backend.iter_keys("nothing-here")) == set()


def test_keys_that_escape_are_refused(store: ArtifactStore) -> None:
    with pytest.raises(InvalidParameterValue):
        store.backend.put_bytes("../outside", b"x")
    with pytest.raises(InvalidParameterValue):
        store.backend.exists_many(["objects/../../x"])


def test_open_read_streams_in_pieces(store: ArtifactStore, tmp_path: Path) -> None:
    data = make_file(tmp_path / "f", 3 * 2**20 + 5, seed=5).read_bytes()
    key = key_of(data)
    store.backend.put_bytes(key, data)
    pieces = []
    with store.backend.open_read(key) as raw:
        while piece := raw.read(1 << 20):
            pieces.append(piece)
    assert b"".join(pieces) == data


def test_url_names_the_store_without_credentials(store: ArtifactStore, store_spec: StoreSpec) -> None:
    assert store.backend.url
    assert "testing" not in store.backend.url
