"""A run's artifacts: the entries its record holds, and the tree of files they make.

A run's ``artifacts.yaml`` maps run-relative paths to entries::

    model.pkl:          {digest: "sha256:...", size: 1234}
    checkpoints:        {digest: "sha256:<manifest>", size: 5678, files: 3, type: dir}

The run's *view* -- what listing and downloading see -- is built from the
entries in order of depth (then path): each entry replaces whatever shallower
entries put at its path, below it, or at a folder of it.  Writers keep entries
consistent (see :func:`conflicting_keys`), so the order only matters for
records merged from two writers, where it makes the result deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.manifest import Manifest, ManifestEntry
from gitrun.core.records.layout import ARTIFACTS_FILE, INPUTS_FILE
from gitrun.errors import InvalidParameterValue, InvalidRecord

REFERENCE_FILES = (ARTIFACTS_FILE, INPUTS_FILE)
"""The files of a run whose entries reference objects of the artifact store (same format)."""
"""The run's mapping file of artifact entries (in the run's git tree)."""
DIR_TYPE = "dir"


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """One entry of a run's record: a file, or a directory logged as a whole."""

    digest: Digest
    """The file's address, or the directory's manifest address."""
    size: int
    """Bytes of the file, or of all the directory's files."""
    files: int | None = None
    """Number of files, for a directory; None for a file."""

    @property
    def is_dir(self) -> bool:
        return self.files is not None

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"digest": str(self.digest), "size": self.size}
        if self.files is not None:
            record.update(files=self.files, type=DIR_TYPE)
        return record

    @classmethod
    def from_record(cls, path: str, data: Any) -> ArtifactEntry:
        """Read one entry of ``artifacts.yaml``.

        Raises:
            InvalidRecord: the entry is malformed.
        """
        problem = f"artifact entry {path!r} is malformed: {data!r}"
        if not isinstance(data, Mapping) or not isinstance(data.get("digest"), str):
            raise InvalidRecord(problem)
        try:
            digest = Digest.parse(data["digest"])
        except InvalidParameterValue as error:
            raise InvalidRecord(f"{problem} ({error.message})") from None
        size = data.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidRecord(f"{problem} (bad size)")
        if data.get("type") == DIR_TYPE:
            files = data.get("files", 0)
            return cls(digest, size, files if isinstance(files, int) else 0)
        return cls(digest, size)


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One file of a run's view."""

    digest: Digest
    size: int


def parse_entries(data: Mapping[str, Any]) -> dict[str, ArtifactEntry]:
    """The entries of an ``artifacts.yaml`` mapping."""
    return {str(path): ArtifactEntry.from_record(str(path), value) for path, value in data.items()}


def ancestors(path: str) -> Iterator[str]:
    """``a/b/c`` -> ``a/b``, ``a``."""
    while "/" in path:
        path = path.rpartition("/")[0]
        yield path


def conflicting_keys(keys: Iterable[str], path: str) -> list[str]:
    """The entries that writing an entry at ``path`` replaces: ``path`` itself,
    entries below it, and files at a folder of it."""
    above = set(ancestors(path))
    prefix = f"{path}/"
    return sorted(k for k in keys if k == path or k.startswith(prefix) or k in above)


class ArtifactTree:
    """Files by run-relative path, kept free of file/folder clashes."""

    def __init__(self) -> None:
        self.files: dict[str, ArtifactFile] = {}
        self._under: dict[str, int] = {}  # folder -> number of files below it

    def _add(self, path: str, item: ArtifactFile) -> None:
        self.files[path] = item
        for folder in ancestors(path):
            self._under[folder] = self._under.get(folder, 0) + 1

    def _drop(self, path: str) -> None:
        del self.files[path]
        for folder in ancestors(path):
            left = self._under[folder] - 1
            if left:
                self._under[folder] = left
            else:
                del self._under[folder]

    def clear_at(self, path: str) -> None:
        """Remove the file at ``path``, every file below it, and files at its folders."""
        if path in self.files:
            self._drop(path)
        for folder in ancestors(path):
            if folder in self.files:
                self._drop(folder)
        if self._under.get(path):
            prefix = f"{path}/"
            for below in [p for p in self.files if p.startswith(prefix)]:
                self._drop(below)

    def put(self, path: str, item: ArtifactFile) -> None:
        self.clear_at(path)
        self._add(path, item)

    def put_dir(self, path: str, entries: Iterable[ManifestEntry]) -> None:
        """Replace everything at and below ``path`` with a directory's files."""
        self.clear_at(path)
        for entry in entries:
            self._add(f"{path}/{entry.path}", ArtifactFile(entry.digest, entry.size))

    def below(self, path: str | None) -> dict[str, ArtifactFile]:
        """Files below folder ``path`` (all for None), keyed relative to it."""
        if not path:
            return dict(self.files)
        prefix = f"{path}/"
        return {p[len(prefix) :]: f for p, f in self.files.items() if p.startswith(prefix)}

    def is_folder(self, path: str) -> bool:
        return bool(self._under.get(path))

    def children(self, path: str | None) -> list[tuple[str, bool, int | None]]:
        """``(path, is_dir, size)`` of what is directly under folder ``path``, sorted."""
        prefix = f"{path}/" if path else ""
        seen: dict[str, tuple[str, bool, int | None]] = {}
        for file, item in self.files.items():
            if not file.startswith(prefix):
                continue
            head, sep, _ = file[len(prefix) :].partition("/")
            child = prefix + head
            seen[child] = (child, True, None) if sep else (child, False, item.size)
        return [seen[k] for k in sorted(seen)]

    def manifest(self, path: str | None) -> Manifest:
        """The files below ``path`` as a manifest (relative paths)."""
        return Manifest.from_entries(
            ManifestEntry(rel, f.digest, f.size) for rel, f in self.below(path).items()
        )


def build_tree(
    entries: Mapping[str, ArtifactEntry], load_manifest: Callable[[Digest], Manifest]
) -> ArtifactTree:
    """The view of a run's entries; ``load_manifest`` reads directory entries."""
    tree = ArtifactTree()
    for path in sorted(entries, key=lambda p: (p.count("/"), p)):
        entry = entries[path]
        if entry.is_dir:
            tree.put_dir(path, load_manifest(entry.digest).entries)
        else:
            tree.put(path, ArtifactFile(entry.digest, entry.size))
    return tree
