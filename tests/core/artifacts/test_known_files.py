"""A local store re-storing a file it stored before, unchanged, only hashes it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import hash_file
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.progress import Advance
from gitrun.core.artifacts.store import ArtifactStore


class Recorder:
    """Remembers what each transfer was ("storing x", "hashing x")."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def wanted(self) -> bool:
        return True

    @contextmanager
    def bar(self, total: int, description: str) -> Iterator[Advance]:
        self.seen.append(description.split(maxsplit=1)[0])
        yield lambda _: None


def test_a_known_unchanged_file_is_hashed_not_copied(tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(100_000))
    progress = Recorder()
    store = ArtifactStore(LocalBackend(tmp_path / "store"), progress=progress)
    digest = store.put_file(source)
    obj = store.backend.path(layout.object_key(digest))  # type: ignore[attr-defined]
    os.utime(obj, (1, 1))
    assert store.put_files([source]) == [(digest, 100_000)]
    assert progress.seen == ["storing", "hashing"]
    assert obj.stat().st_mtime > 1  # touched: gc's grace period covers the re-use

    source.write_bytes(b"changed")  # new content: copied again, new address
    changed = store.put_file(source)
    assert changed == hash_file(source)[0] != digest
    assert progress.seen[-1] == "storing"

    store.delete(changed)  # known, but gone from the store: copied again
    assert store.put_file(source) == changed and store.verify(changed)
    assert progress.seen[-1] == "storing"
