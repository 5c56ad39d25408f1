from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import hash_bytes
from gitrun.core.artifacts.manifest import (
    Manifest,
    ManifestEntry,
    is_manifest,
    load_manifest,
    materialize,
    scan_directory,
    store_directory,
)
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.errors import CorruptObject, InvalidParameterValue
from tests.core.artifacts.stores import StoreSpec, flip_byte, make_file

FILES = {
    "checkpoints/epoch-1.pt": b"weights 1",
    "checkpoints/epoch-2.pt": b"weights 2",
    "config.yaml": b"lr: 0.1\n",
    "plots/roc curve.png": b"\x89PNG...",
    "plots/nested/deep/ü.txt": "unicode ✓".encode(),
    "same-as-config.yaml": b"lr: 0.1\n",
    "empty": b"",
}


def build(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(FILES[name])
    return root


def test_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    src = build(tmp_path / "src", list(FILES))
    (src / "empty-folder").mkdir()
    digest, manifest = store_directory(store, src)
    assert [e.path for e in manifest.entries] == sorted(FILES)
    assert manifest.total_size == sum(len(v) for v in FILES.values())
    assert is_manifest(store, digest)
    assert load_manifest(store, digest) == manifest
    # identical files are stored once: 6 distinct contents + the manifest
    assert len(set(store.iter_digests())) == 7
    written = materialize(store, digest, tmp_path / "dst")
    assert len(written) == len(FILES)
    for name, data in FILES.items():
        assert (tmp_path / "dst" / name).read_bytes() == data


def test_same_tree_same_digest_whatever_the_creation_order(
    local_store: ArtifactStore, tmp_path: Path
) -> None:
    names = list(FILES)
    first, _ = store_directory(local_store, build(tmp_path / "one", names))
    second, _ = store_directory(local_store, build(tmp_path / "two", list(reversed(names))))
    assert first == second
    (tmp_path / "two" / "config.yaml").write_bytes(b"lr: 0.2\n")
    third, _ = store_directory(local_store, tmp_path / "two")
    assert third != first


def test_serialisation_is_canonical() -> None:
    entries = [ManifestEntry("b", hash_bytes(b"b"), 1), ManifestEntry("a/ü", hash_bytes(b"a"), 1)]
    manifest = Manifest.from_entries(entries)
    data = manifest.to_bytes()
    assert data.startswith(b'{"gitrun_manifest":1,"entries":[{"digest":"sha256:')
    assert b" " not in data
    assert "a/ü".encode() in data
    assert Manifest.from_bytes(data) == manifest
    document = json.loads(data)
    assert [e["path"] for e in document["entries"]] == ["a/ü", "b"]
    reformatted = json.dumps(document, indent=1).encode()
    with pytest.raises(InvalidParameterValue):
        Manifest.from_bytes(reformatted)
    with pytest.raises(InvalidParameterValue, match="canonical"):
        Manifest.from_bytes(data.replace(b'"a/\xc3\xbc"', b'"a/\\u00fc"'))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"hello", "not a gitrun manifest"),
        (b'{"gitrun_manifest":2,"entries":[]}', "unsupported gitrun manifest version 2"),
        (b'{"gitrun_manifest":1,"entries":{}}', "malformed"),
        (b'{"gitrun_manifest":1,"entries":[{"path":"a"}]}', "malformed"),
        (b'{"gitrun_manifest":1,', "unreadable"),
    ],
)
def test_bad_manifests_are_refused(data: bytes, match: str) -> None:
    with pytest.raises(InvalidParameterValue, match=match):
        Manifest.from_bytes(data)


def test_entries_are_validated() -> None:
    digest = hash_bytes(b"x")
    with pytest.raises(InvalidParameterValue, match="sorted"):
        Manifest((ManifestEntry("b", digest, 1), ManifestEntry("a", digest, 1)))
    with pytest.raises(InvalidParameterValue, match="sorted"):
        Manifest((ManifestEntry("a", digest, 1), ManifestEntry("a", digest, 1)))
    with pytest.raises(InvalidParameterValue, match="both a file and a folder"):
        Manifest.from_entries([ManifestEntry("a", digest, 1), ManifestEntry("a/b", digest, 1)])
    with pytest.raises(InvalidParameterValue, match="invalid size"):
        Manifest.from_entries([ManifestEntry("a", digest, -1)])


def test_a_plain_file_is_not_a_manifest(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"just data")
    assert not is_manifest(store, digest)
    with pytest.raises(InvalidParameterValue, match="not a gitrun manifest"):
        load_manifest(store, digest)


def forged(store: ArtifactStore, path: str) -> bytes:
    """A canonical manifest naming ``path``, bypassing validation as an
    attacker writing to the store would."""
    target = store.put_bytes(b"payload")
    row = json.dumps({"digest": str(target), "path": path, "size": 7}, sort_keys=True, separators=(",", ":"))
    return f'{{"gitrun_manifest":1,"entries":[{row}]}}'.encode()


@pytest.mark.parametrize("path", ["../escaped.txt", "/tmp/abs.txt", "a/../../escaped.txt", "a\\..\\x"])
def test_traversal_in_a_stored_manifest_is_refused_and_writes_nothing(
    local_store: ArtifactStore, tmp_path: Path, path: str
) -> None:
    digest = local_store.put_bytes(forged(local_store, path))
    dst = tmp_path / "area" / "dst"
    with pytest.raises(InvalidParameterValue, match="invalid artifact path"):
        materialize(local_store, digest, dst)
    assert not (tmp_path / "area" / "escaped.txt").exists()
    assert not dst.exists() or list(dst.iterdir()) == []


def test_symlink_already_in_destination_cannot_redirect_writes(
    local_store: ArtifactStore, tmp_path: Path
) -> None:
    src = build(tmp_path / "src", ["config.yaml", "plots/roc curve.png"])
    digest, _ = store_directory(local_store, src)
    dst = tmp_path / "dst"
    outside = tmp_path / "outside"
    dst.mkdir()
    outside.mkdir()
    os.symlink(outside, dst / "plots")
    with pytest.raises(InvalidParameterValue, match="outside"):
        materialize(local_store, digest, dst)
    assert list(outside.iterdir()) == []
    assert not (dst / "config.yaml").exists()  # checked before anything is written


def test_materialize_verifies_every_file(store_spec: StoreSpec, store: ArtifactStore, tmp_path: Path) -> None:
    src = build(tmp_path / "src", ["config.yaml", "checkpoints/epoch-1.pt"])
    digest, manifest = store_directory(store, src)
    bad = next(e for e in manifest.entries if e.path == "checkpoints/epoch-1.pt")
    flip_byte(store_spec, store, layout.object_key(bad.digest), 0)
    with pytest.raises(CorruptObject, match=str(bad.digest)):
        materialize(store, digest, tmp_path / "dst")
    assert not (tmp_path / "dst" / "checkpoints" / "epoch-1.pt").exists()


def test_corrupt_manifest_object_is_refused(
    store_spec: StoreSpec, store: ArtifactStore, tmp_path: Path
) -> None:
    digest, _ = store_directory(store, build(tmp_path / "src", ["config.yaml"]))
    flip_byte(store_spec, store, layout.object_key(digest), 40)
    with pytest.raises(CorruptObject):
        load_manifest(store, digest)


def test_scan_follows_file_symlinks_and_skips_folder_symlinks(tmp_path: Path) -> None:
    src = build(tmp_path / "src", ["config.yaml"])
    os.symlink(src / "config.yaml", src / "link.yaml")
    other = build(tmp_path / "other", ["plots/roc curve.png"])
    os.symlink(other / "plots", src / "linked-folder")
    assert [path for path, _ in scan_directory(src)] == ["config.yaml", "link.yaml"]


def test_scan_refuses_broken_links_and_special_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.symlink(tmp_path / "nowhere", src / "broken")
    with pytest.raises(InvalidParameterValue, match="broken symlink"):
        scan_directory(src)
    (src / "broken").unlink()
    os.mkfifo(src / "fifo")
    with pytest.raises(InvalidParameterValue, match="not a regular file"):
        scan_directory(src)
    with pytest.raises(InvalidParameterValue, match="not a directory"):
        scan_directory(tmp_path / "missing")


def test_large_files_in_a_tree(local_store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_file(src / "a" / "big.bin", 6 * 2**20, seed=1)
    digest, manifest = store_directory(local_store, src)
    materialize(local_store, manifest, tmp_path / "dst")
    assert (tmp_path / "dst" / "a" / "big.bin").read_bytes() == (src / "a" / "big.bin").read_bytes()
    assert load_manifest(local_store, digest) == manifest
