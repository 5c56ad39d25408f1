"""ArtifactStore behaviour, run against every real backend."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import Digest, hash_bytes, hash_file
from gitrun.core.artifacts.fsspec_backend import prefer_one_listing
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.progress import Advance, Silent
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.errors import CorruptObject, InvalidParameterValue, ResourceDoesNotExist
from tests.core.artifacts.stores import StoreSpec, flip_byte, make_file, tree_size


class RecordingProgress:
    """Records every bar a store opens, and can act while bytes move."""

    def __init__(self, on_advance: Callable[[str, int], None] | None = None) -> None:
        self.bars: list[tuple[str, int]] = []
        self.moved: dict[str, int] = {}
        self._on_advance = on_advance

    def wanted(self) -> bool:
        return True

    def bar(self, total: int, description: str) -> AbstractContextManager[Advance]:
        return self._bar(total, description)

    @contextmanager
    def _bar(self, total: int, description: str) -> Iterator[Advance]:
        self.bars.append((description, total))
        self.moved.setdefault(description, 0)

        def advance(count: int) -> None:
            self.moved[description] += count
            if self._on_advance is not None:
                self._on_advance(description, count)

        yield advance


def test_put_and_get_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    source = make_file(tmp_path / "model.bin", 5 * 2**20 + 123, seed=1)
    digest = store.put_file(source)
    assert digest == hash_file(source)[0]
    assert store.has(digest)
    assert store.size(digest) == source.stat().st_size
    dest = store.get_file(digest, tmp_path / "out" / "model.bin")
    assert dest.read_bytes() == source.read_bytes()
    assert store.verify(digest)
    assert list(store.iter_digests()) == [digest]
    assert [p.name for p in dest.parent.iterdir()] == ["model.bin"]  # no temp left


def test_same_file_twice_is_stored_once(store: ArtifactStore, tmp_path: Path) -> None:
    source = make_file(tmp_path / "a.bin", 3 * 2**20, seed=2)
    copy = tmp_path / "copy-of-a.bin"
    shutil.copyfile(source, copy)
    first = store.put_file(source)
    second = store.put_file(copy)
    third = store.put_bytes(source.read_bytes())
    assert first == second == third
    assert list(store.iter_digests()) == [first]
    assert tree_size(store) == source.stat().st_size


def test_second_upload_only_hashes(store_spec: StoreSpec, tmp_path: Path) -> None:
    progress = RecordingProgress()
    store = ArtifactStore(store_spec.open(), progress=progress)
    source = make_file(tmp_path / "a.bin", 2**20, seed=3)
    store.put_file(source)
    progress.bars.clear()
    store.put_file(source)
    kinds = {description.split()[0] for description, _ in progress.bars}
    # Every store hashes, sees the object, and copies nothing: remote ones always
    # hash first; a local store (which stages a copy while hashing a file it has
    # not seen) recognises the file it stored, unchanged.
    assert kinds == {"hashing"}


def test_put_files_batches_and_dedups(store: ArtifactStore, tmp_path: Path) -> None:
    a = make_file(tmp_path / "a", 1000, seed=1)
    b = make_file(tmp_path / "b", 2000, seed=2)
    a2 = tmp_path / "a2"
    shutil.copyfile(a, a2)
    stored = store.put_files([a, b, a2])
    assert [size for _, size in stored] == [1000, 2000, 1000]
    assert stored[0][0] == stored[2][0] != stored[1][0]
    assert set(store.iter_digests()) == {stored[0][0], stored[1][0]}


def test_empty_file(store: ArtifactStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    digest = store.put_file(empty)
    assert digest == hash_bytes(b"")
    assert store.get_file(digest, tmp_path / "back").read_bytes() == b""


def test_has_many_is_exact(store: ArtifactStore) -> None:
    present = {store.put_bytes(f"p{i}".encode()) for i in range(30)}
    absent = {hash_bytes(f"a{i}".encode()) for i in range(30)}
    assert store.has_many(present | absent) == present
    assert store.has_many([]) == set()


def test_open_verified_streams_good_objects(store: ArtifactStore, tmp_path: Path) -> None:
    source = make_file(tmp_path / "f", 9 * 2**20 + 1, seed=4)
    digest = store.put_file(source)
    hasher = hashlib.sha256()
    with store.open_verified(digest) as reader:
        while chunk := reader.read(1_000_000):
            hasher.update(chunk)
    assert hasher.hexdigest() == digest.hexdigest


@pytest.mark.parametrize("offset", [0, 9 * 2**20])
def test_corrupt_object_is_never_handed_out_whole(
    store_spec: StoreSpec, store: ArtifactStore, tmp_path: Path, offset: int
) -> None:
    source = make_file(tmp_path / "f", 9 * 2**20 + 1, seed=5)
    digest = store.put_file(source)
    flip_byte(store_spec, store, layout.object_key(digest), offset)
    received = bytearray()
    with pytest.raises(CorruptObject) as info, store.open_verified(digest) as reader:
        while chunk := reader.read(1 << 20):
            received += chunk
    message = str(info.value)
    assert str(digest) in message
    assert store.url in message
    # The last block is withheld: what the caller got is incomplete.
    assert len(received) < source.stat().st_size


def test_get_file_of_corrupt_object_writes_nothing(
    store_spec: StoreSpec, store: ArtifactStore, tmp_path: Path
) -> None:
    source = make_file(tmp_path / "f", 2**20, seed=6)
    digest = store.put_file(source)
    flip_byte(store_spec, store, layout.object_key(digest), 1000)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptObject, match=str(digest)):
        store.get_file(digest, out / "f")
    assert list(out.iterdir()) == []
    # an existing destination stays as it was
    (out / "f").write_bytes(b"previous")
    with pytest.raises(CorruptObject):
        store.get_file(digest, out / "f")
    assert (out / "f").read_bytes() == b"previous"
    assert [p.name for p in out.iterdir()] == ["f"]
    assert store.verify(digest) is False


def test_fsck_quarantines_corrupt_objects(
    store_spec: StoreSpec, store: ArtifactStore, tmp_path: Path
) -> None:
    good = store.put_bytes(b"good object")
    bad = store.put_file(make_file(tmp_path / "f", 300_000, seed=7))
    flip_byte(store_spec, store, layout.object_key(bad), 5)
    report = store.fsck()
    assert report.checked == 2
    assert not report.ok
    assert [q.digest for q in report.corrupt] == [bad]
    assert set(store.iter_digests()) == {good}
    assert list(store.backend.iter_keys("quarantine")) == [report.corrupt[0].quarantine_key]
    # storing the right bytes again repairs the store
    assert store.put_file(tmp_path / "f") == bad
    assert store.fsck().ok


def test_fsck_reports_interrupted_uploads_without_touching_them(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"x")
    partial = layout.temp_key_beside(layout.object_key(digest))
    store.backend.put_bytes(partial, b"partial")
    report = store.fsck()
    assert report.ok
    assert report.checked == 1
    assert report.stray_keys == (partial,)


def test_missing_objects_are_reported_by_digest(store: ArtifactStore, tmp_path: Path) -> None:
    digest = hash_bytes(b"never stored")
    for call in (
        lambda: store.open_verified(digest),
        lambda: store.get_file(digest, tmp_path / "x"),
        lambda: store.verify(digest),
        lambda: store.size(digest),
        lambda: store.read_bytes(digest),
    ):
        with pytest.raises(ResourceDoesNotExist, match=f"artifact object {digest} not found in store"):
            call()
    assert not (tmp_path / "x").exists()


def test_delete(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"bye")
    store.delete(digest)
    store.delete(digest)
    assert not store.has(digest)


def test_read_bytes_has_a_limit(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"x" * 100)
    assert store.read_bytes(digest) == b"x" * 100
    with pytest.raises(InvalidParameterValue, match="larger than 10 bytes"):
        store.read_bytes(digest, limit=10)


def test_bad_sources_are_refused(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="no such file"):
        store.put_file(tmp_path / "missing")
    with pytest.raises(InvalidParameterValue, match="directory"):
        store.put_file(tmp_path)
    with pytest.raises(InvalidParameterValue, match="is a directory"):
        store.get_file(store.put_bytes(b"x"), tmp_path)


def test_file_changing_during_upload_is_not_stored(store_spec: StoreSpec, tmp_path: Path) -> None:
    if store_spec.name in ("local", "fsspec-file"):
        pytest.skip("local stores copy what they hash in one pass; fsspec file:// reports no upload progress")
    source = make_file(tmp_path / "growing.log", 3 * 2**20, seed=8)

    def append_once(description: str, count: int) -> None:
        if description.startswith("uploading") and source.stat().st_size == 3 * 2**20:
            with open(source, "ab") as out:
                out.write(b"more")

    store = ArtifactStore(store_spec.open(), progress=RecordingProgress(append_once))
    with pytest.raises(InvalidParameterValue, match="changed while it was being stored"):
        store.put_file(source)
    assert list(store.iter_digests()) == []


def test_copy_to_moves_only_missing_objects(
    store: ArtifactStore, local_store: ArtifactStore, tmp_path: Path
) -> None:
    digests = [
        local_store.put_file(make_file(tmp_path / f"f{i}", 100_000 * (i + 1), seed=i)) for i in range(3)
    ]
    store.put_file(tmp_path / "f0")
    assert local_store.copy_to(store, digests) == sorted(digests[1:])
    assert store.has_many(digests) == set(digests)
    assert all(store.verify(d) for d in digests)
    assert local_store.copy_to(store, digests) == []
    # and back, into an empty local store
    other = ArtifactStore(LocalBackend(tmp_path / "other"), progress=Silent())
    assert store.copy_to(other, digests) == sorted(digests)
    assert all(other.verify(d) for d in digests)


def test_copy_to_between_two_remote_kinds(store: ArtifactStore, tmp_path: Path) -> None:
    from gitrun.core.artifacts.fsspec_backend import FsspecBackend

    memory = ArtifactStore(FsspecBackend(f"memory://gitrun-copy-{tmp_path.name}"))
    digest = store.put_file(make_file(tmp_path / "f", 200_000, seed=9))
    assert store.copy_to(memory, [digest]) == [digest]
    assert memory.verify(digest)


def test_copy_to_refuses_to_spread_corruption(
    store_spec: StoreSpec, store: ArtifactStore, local_store: ArtifactStore, tmp_path: Path
) -> None:
    digest = store.put_file(make_file(tmp_path / "f", 200_000, seed=10))
    flip_byte(store_spec, store, layout.object_key(digest), 7)
    with pytest.raises(CorruptObject, match=str(digest)):
        store.copy_to(local_store, [digest])
    assert not local_store.has(digest)
    local_digest = local_store.put_file(tmp_path / "f")
    flip_byte(StoreSpec("local", ""), local_store, layout.object_key(local_digest), 7)
    store.delete(digest)
    with pytest.raises(CorruptObject):
        local_store.copy_to(store, [local_digest])
    assert not store.has(local_digest)


def test_copy_to_names_objects_missing_everywhere(store: ArtifactStore, local_store: ArtifactStore) -> None:
    ghost = hash_bytes(b"ghost")
    with pytest.raises(ResourceDoesNotExist, match=str(ghost)):
        store.copy_to(local_store, [ghost])


def test_listing_strategy() -> None:
    # small store: one listing of everything beats a listing per folder
    assert prefer_one_listing(first_folder_keys=3, folders=256, folders_left=20)
    # a million objects, 20 wanted: list the 20 folders
    assert not prefer_one_listing(first_folder_keys=4000, folders=256, folders_left=20)
    # a million objects, every folder wanted: as many pages either way
    assert not prefer_one_listing(first_folder_keys=4000, folders=256, folders_left=255)
    # 100k objects, 200 folders wanted: one listing (100 pages, not 200)
    assert prefer_one_listing(first_folder_keys=400, folders=256, folders_left=200)
    assert not prefer_one_listing(first_folder_keys=3, folders=0, folders_left=20)


def test_digest_type_in_api(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"abc")
    assert isinstance(digest, Digest)
    assert str(digest).startswith("sha256:")


def test_concurrent_writers_of_the_same_and_different_files(store: ArtifactStore, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    same = make_file(tmp_path / "same", 2 * 2**20, seed=12)
    others = [make_file(tmp_path / f"other{i}", 300_000, seed=100 + i) for i in range(4)]
    sources = [same] * 4 + others
    with ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(store.put_file, sources))
    assert len(set(digests[:4])) == 1
    assert set(store.iter_digests()) == set(digests)
    assert all(store.verify(d) for d in set(digests))


def test_open_verified_read_all(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"0123456789" * 1000)
    with store.open_verified(digest) as reader:
        assert reader.read() == b"0123456789" * 1000
        assert reader.read() == b""
