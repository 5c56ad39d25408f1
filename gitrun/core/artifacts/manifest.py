"""Directories as manifests: a sorted list of (path, digest, size), stored as
an object itself, so that a directory has an address too.

The serialisation is canonical -- one byte string per manifest -- so the same
tree always gets the same address, whatever order its files were created in::

    {"gitrun_manifest":1,"entries":[{"digest":"sha256:...","path":"a/b.txt","size":3},...]}

Compact JSON, UTF-8, entries sorted by path, keys sorted within an entry.
Reading accepts only that exact form.

What a manifest records: regular files, and files reached through symlinks
(by content).  Not recorded: empty folders, symlinked folders (skipped, as
``mlflow.log_artifacts`` does), file modes and times.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.paths import normalize_artifact_path, safe_destination
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.errors import InvalidParameterValue

FORMAT_VERSION = 1
MAGIC = b'{"gitrun_manifest":'
MAX_MANIFEST_BYTES = 256 * 2**20


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file of a directory."""

    path: str
    digest: Digest
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """A directory tree: entries sorted by path, no duplicates, no file that
    is also a folder of another entry."""

    entries: tuple[ManifestEntry, ...]

    def __post_init__(self) -> None:
        paths = [normalize_artifact_path(e.path) for e in self.entries]
        if paths != [e.path for e in self.entries]:
            raise InvalidParameterValue("manifest entry paths must be canonical artifact paths")
        if paths != sorted(set(paths)):
            raise InvalidParameterValue("manifest entries must be sorted by path, without duplicates")
        files = set(paths)
        for path in paths:
            folder = path
            while "/" in folder:
                folder = folder.rpartition("/")[0]
                if folder in files:
                    raise InvalidParameterValue(f"manifest has both a file and a folder named {folder!r}")
        for entry in self.entries:
            if isinstance(entry.size, bool) or not isinstance(entry.size, int) or entry.size < 0:
                raise InvalidParameterValue(f"manifest entry {entry.path!r} has an invalid size")

    @classmethod
    def from_entries(cls, entries: Iterable[ManifestEntry]) -> Manifest:
        """A manifest of ``entries`` in any order."""
        return cls(tuple(sorted(entries, key=lambda e: e.path)))

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)

    def to_bytes(self) -> bytes:
        """The canonical serialisation (what is hashed and stored)."""
        rows = [
            json.dumps(
                {"digest": str(e.digest), "path": e.path, "size": e.size},
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            )
            for e in self.entries
        ]
        text = f'{{"gitrun_manifest":{FORMAT_VERSION},"entries":[{",".join(rows)}]}}'
        return text.encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse a canonical serialisation.

        Raises:
            InvalidParameterValue: ``data`` is not a canonical manifest.
        """
        if not data.startswith(MAGIC):
            raise InvalidParameterValue("not a gitrun manifest")
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidParameterValue(f"unreadable gitrun manifest: {error}") from error
        if not isinstance(document, dict) or set(document) != {
            "gitrun_manifest",
            "entries",
        }:
            raise InvalidParameterValue("malformed gitrun manifest")
        if document["gitrun_manifest"] != FORMAT_VERSION:
            raise InvalidParameterValue(
                f"unsupported gitrun manifest version {document['gitrun_manifest']!r}; upgrade gitrun"
            )
        rows = document["entries"]
        if not isinstance(rows, list):
            raise InvalidParameterValue("malformed gitrun manifest")
        entries = []
        for row in rows:
            if not isinstance(row, dict) or set(row) != {"digest", "path", "size"}:
                raise InvalidParameterValue("malformed gitrun manifest entry")
            if not isinstance(row["path"], str) or not isinstance(row["digest"], str):
                raise InvalidParameterValue("malformed gitrun manifest entry")
            entries.append(ManifestEntry(row["path"], Digest.parse(row["digest"]), row["size"]))
        manifest = cls(tuple(entries))
        if manifest.to_bytes() != data:
            raise InvalidParameterValue("gitrun manifest is not in canonical form")
        return manifest


def scan_directory(local_dir: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """The files a manifest of ``local_dir`` records: (artifact path, file).

    Raises:
        InvalidParameterValue: ``local_dir`` is not a directory, or holds a
            broken symlink or a special file (socket, fifo, device).
    """
    top = Path(local_dir)
    if not top.is_dir():
        raise InvalidParameterValue(f"cannot store {top} as a directory: not a directory")
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            file = Path(folder, name)
            try:
                mode = file.stat().st_mode
            except OSError as error:
                reason = "broken symlink" if file.is_symlink() else error.strerror
                raise InvalidParameterValue(f"cannot store {file}: {reason}") from error
            if not stat.S_ISREG(mode):
                raise InvalidParameterValue(f"cannot store {file}: not a regular file")
            found.append((normalize_artifact_path(file.relative_to(top).as_posix()), file))
    return found


def store_directory(store: ArtifactStore, local_dir: str | os.PathLike[str]) -> tuple[Digest, Manifest]:
    """Store every file below ``local_dir`` and then its manifest.

    Returns:
        The manifest's address and the manifest.
    """
    files = scan_directory(local_dir)
    stored = store.put_files(file for _, file in files)
    entries = [
        ManifestEntry(path, digest, size) for (path, _), (digest, size) in zip(files, stored, strict=True)
    ]
    manifest = Manifest.from_entries(entries)
    return store.put_bytes(manifest.to_bytes()), manifest


def is_manifest(store: ArtifactStore, digest: Digest) -> bool:
    """Whether the object ``digest`` looks like a manifest (reads its start).

    A file whose bytes happen to be a manifest is one: records say whether
    they reference a file or a directory; this is for bare digests.
    """
    return store.peek(digest, len(MAGIC)) == MAGIC


def load_manifest(store: ArtifactStore, digest: Digest) -> Manifest:
    """Read and verify a stored manifest.

    Raises:
        InvalidParameterValue: the object is not a manifest.
        CorruptObject: the object does not match its address.
    """
    return Manifest.from_bytes(store.read_bytes(digest, limit=MAX_MANIFEST_BYTES))


def materialize(
    store: ArtifactStore, manifest: Manifest | Digest, dest_dir: str | os.PathLike[str]
) -> list[Path]:
    """Write a manifest's files below ``dest_dir``, each verified and atomic.

    Every destination is checked before anything is written, so a manifest
    with a path escaping ``dest_dir`` (also through a symlink already in
    ``dest_dir``) writes nothing.

    Returns:
        The files written, in manifest order.
    """
    if isinstance(manifest, Digest):
        manifest = load_manifest(store, manifest)
    Path(dest_dir).mkdir(parents=True, exist_ok=True)
    targets = [safe_destination(dest_dir, e.path) for e in manifest.entries]
    for entry, target in zip(manifest.entries, targets, strict=True):
        store.get_file(entry.digest, target)
    return targets
