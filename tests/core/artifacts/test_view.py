"""A run's view: entries overlaid in order of depth, conflicts resolved the same way always."""

from __future__ import annotations

import pytest

from gitrun.core.artifacts.digest import Digest, hash_bytes
from gitrun.core.artifacts.manifest import Manifest, ManifestEntry
from gitrun.core.artifacts.view import (
    ArtifactEntry,
    build_tree,
    conflicting_keys,
    parse_entries,
)
from gitrun.errors import InvalidRecord


def manifest_of(files: dict[str, bytes]) -> Manifest:
    return Manifest.from_entries(ManifestEntry(p, hash_bytes(d), len(d)) for p, d in files.items())


def test_entries_round_trip_and_bad_ones_are_invalid_records() -> None:
    digest = hash_bytes(b"x")
    entries = {"f": ArtifactEntry(digest, 1), "d": ArtifactEntry(digest, 10, 3)}
    assert parse_entries({k: v.to_record() for k, v in entries.items()}) == entries
    assert entries["d"].to_record() == {"digest": str(digest), "size": 10, "files": 3, "type": "dir"}
    for bad in ({"size": 1}, {"digest": "md5:x", "size": 1}, {"digest": str(digest), "size": -1}, "text"):
        with pytest.raises(InvalidRecord, match="malformed"):
            parse_entries({"p": bad})


def test_deeper_entries_override_and_files_hide_folders() -> None:
    outer = manifest_of({"a.txt": b"a", "sub/b.txt": b"b", "sub/c.txt": b"c", "x/y": b"y"})
    manifests: dict[Digest, Manifest] = {hash_bytes(outer.to_bytes()): outer}
    inner = manifest_of({"only.txt": b"o"})
    manifests[hash_bytes(inner.to_bytes())] = inner
    entries = {
        "d": ArtifactEntry(hash_bytes(outer.to_bytes()), 4, 4),
        "d/sub": ArtifactEntry(hash_bytes(inner.to_bytes()), 1, 1),  # replaces d/sub/*
        "d/a.txt": ArtifactEntry(hash_bytes(b"A!"), 2),  # overrides one file
        "d/x": ArtifactEntry(hash_bytes(b"file"), 4),  # a file where a folder was
    }
    tree = build_tree(entries, manifests.__getitem__)
    assert sorted(tree.files) == ["d/a.txt", "d/sub/only.txt", "d/x"]
    assert tree.files["d/a.txt"].size == 2
    assert tree.children("d") == [("d/a.txt", False, 2), ("d/sub", True, None), ("d/x", False, 4)]
    assert tree.children(None) == [("d", True, None)]
    assert tree.is_folder("d/sub") and not tree.is_folder("d/x")
    assert [e.path for e in tree.manifest("d").entries] == ["a.txt", "sub/only.txt", "x"]


def test_conflicting_keys() -> None:
    keys = ["a", "a/b", "a/b/c", "ab", "x/y"]
    assert conflicting_keys(keys, "a") == ["a", "a/b", "a/b/c"]
    assert conflicting_keys(keys, "a/b/c/d") == ["a", "a/b", "a/b/c"]
    assert conflicting_keys(keys, "x") == ["x/y"]
    assert conflicting_keys(keys, "z") == []


def test_the_order_of_entries_in_the_record_does_not_matter() -> None:
    digest = hash_bytes(b"1")
    one = {"a": ArtifactEntry(digest, 1), "a/b": ArtifactEntry(hash_bytes(b"2"), 1)}
    two = dict(reversed(list(one.items())))
    assert build_tree(one, dict().__getitem__).files == build_tree(two, dict().__getitem__).files
    assert list(build_tree(one, dict().__getitem__).files) == ["a/b"]
