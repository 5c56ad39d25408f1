"""How the tests open a backend by name, in this process or in a child."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gitrun.core.artifacts.backend import Backend, open_backend
from gitrun.core.artifacts.fsspec_backend import FsspecBackend
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.store import ArtifactStore

# gcsfs probes for hierarchical-namespace buckets and stalls 60 s per call on
# an emulator unless this is set before it is imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

BACKEND_NAMES = ("local", "memory", "fsspec-file", "s3", "gcs")


@dataclass(frozen=True)
class StoreSpec:
    """Enough to open the same store again, also from a child process."""

    name: str
    url: str
    options: dict[str, object] = field(default_factory=dict)

    def open(self) -> Backend:
        if self.name == "local":
            return LocalBackend(self.url)
        if self.name == "fsspec-file":
            return FsspecBackend(self.url)  # the generic upload-then-move path
        return open_backend(self.url, self.options)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "url": self.url, "options": self.options})

    @classmethod
    def from_json(cls, text: str) -> StoreSpec:
        data = json.loads(text)
        return cls(data["name"], data["url"], data["options"])


def make_file(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random bytes, the same for the same seed."""
    block = random.Random(seed).randbytes(1 << 20)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        written = 0
        counter = 0
        while written < size:
            chunk = counter.to_bytes(8, "big") + block
            chunk = chunk[: size - written]
            out.write(chunk)
            written += len(chunk)
            counter += 1
    return path


def flip_byte(spec: StoreSpec, store: ArtifactStore, key: str, offset: int = 0) -> None:
    """Corrupt a stored blob in place (local) or by rewriting it (elsewhere)."""
    if spec.name == "local":
        assert isinstance(store.backend, LocalBackend)
        path = store.backend.path(key)
        path.chmod(0o644)
        with open(path, "r+b") as blob:
            blob.seek(offset)
            byte = blob.read(1)
            blob.seek(offset)
            blob.write(bytes([byte[0] ^ 0xFF]))
        return
    with store.backend.open_read(key) as raw:
        data = bytearray(raw.read())
    data[offset] ^= 0xFF
    store.backend.delete(key)
    assert store.backend.put_bytes(key, bytes(data))


def tree_size(store: ArtifactStore) -> int:
    return sum(store.backend.size(k) for k in store.backend.iter_keys("objects"))


class ProgressHook:
    """A progress reporter (always wanted) calling ``hook(description, moved, total)``
    each time bytes move: lets a test act at a chosen point of a transfer."""

    def __init__(self, hook: Callable[[str, int, int], None]) -> None:
        self.hook = hook

    def wanted(self) -> bool:
        return True

    @contextmanager
    def bar(self, total: int, description: str) -> Iterator[Callable[[int], None]]:
        moved = 0

        def advance(count: int) -> None:
            nonlocal moved
            moved += count
            self.hook(description, moved, total)

        yield advance
