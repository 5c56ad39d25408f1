"""Looking inside a run's artifacts: what kind each file is, a preview, a verified stream.

A page shows a run's files without downloading them: images are shown, text, logs,
YAML and JSON as text, CSV/TSV as a table, a logged model as its ``MLmodel``
descriptor.  Previews read at most :data:`PREVIEW_BYTES` (a large file shows its
beginning); every byte of a whole file is verified against its digest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.paths import normalize_artifact_path
from gitrun.errors import ResourceDoesNotExist
from gitrun.tracking.artifacts.records import run_tree
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.store import TrackingStore

PREVIEW_BYTES = 1 * 2**20
TABLE_ROWS = 200
MODEL_FILE = "MLmodel"
IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
}
"""Raster images a browser shows; never SVG (an SVG can carry scripts)."""
_LANGUAGES = {"yaml": "yaml", "yml": "yaml", "json": "json", "py": "python", "sh": "shell", "toml": "toml"}


@dataclass(frozen=True)
class ArtifactFile:
    """One file of a run's artifacts."""

    path: str
    digest: Digest
    size: int


@dataclass(frozen=True)
class Preview:
    """What a page shows of one artifact file.

    ``kind`` is ``image``, ``text``, ``table``, ``model`` or ``binary``; ``text`` holds the
    (first ``PREVIEW_BYTES`` of the) content for text-like kinds and the ``MLmodel``
    descriptor for a model; ``rows`` the first rows of a table.
    """

    path: str
    kind: str
    size: int
    digest: str
    media_type: str | None = None
    language: str | None = None
    text: str | None = None
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    verified: bool = True


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def media_type(path: str) -> str | None:
    """The image type a browser may show for ``path``; None for everything else."""
    return IMAGE_TYPES.get(_extension(path))


def artifact_file(store: TrackingStore, run_id: str, path: str) -> ArtifactFile:
    """One file of a run's artifacts (the path is checked: it cannot leave the run).

    Raises:
        InvalidParameterValue: the path is absolute, has ``..``, ...
        ResourceDoesNotExist: no such file in the run (or it is a folder).
    """
    wanted = normalize_artifact_path(path)
    found = run_tree(store, run_id).files.get(wanted)
    if found is None:
        raise ResourceDoesNotExist(f"artifact {wanted!r} is not a file of run {run_id}")
    return ArtifactFile(wanted, found.digest, found.size)


def list_files(store: TrackingStore, run_id: str) -> list[ArtifactFile]:
    """Every file of a run's artifacts, sorted by path."""
    tree = run_tree(store, run_id)
    return [ArtifactFile(p, f.digest, f.size) for p, f in sorted(tree.files.items())]


def open_stream(store: TrackingStore, file: ArtifactFile, block: int = 2**20) -> Iterator[bytes]:
    """The file's bytes in blocks, verified as they stream: a corrupt object raises
    ``CorruptObject`` before its last block is handed out."""
    stores = stores_for(store)
    stores.ensure_local([file.digest])
    with stores.local.open_verified(file.digest) as reader:
        while chunk := reader.read(block):
            yield chunk


def _head(store: TrackingStore, file: ArtifactFile) -> tuple[bytes, bool]:
    """The first PREVIEW_BYTES (verified when that is the whole file) and whether cut."""
    stores = stores_for(store)
    stores.ensure_local([file.digest])
    if file.size <= PREVIEW_BYTES:
        return stores.local.read_bytes(file.digest, PREVIEW_BYTES), False
    return stores.local.peek(file.digest, PREVIEW_BYTES), True


def _decode(data: bytes, truncated: bool) -> str | None:
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 4:  # a character cut at the preview's end
            return data[: exc.start].decode("utf-8")
        return None


def preview(store: TrackingStore, run_id: str, path: str) -> Preview:
    """What a page shows of one artifact (see :class:`Preview`).

    Raises:
        InvalidParameterValue: a bad path.
        ResourceDoesNotExist: no such file.
        CorruptObject: a whole file whose bytes do not match its digest.
    """
    file = artifact_file(store, run_id, path)

    def made(kind: str, **extra: Any) -> Preview:
        return Preview(file.path, kind, file.size, str(file.digest), **extra)

    image = media_type(file.path)
    if image is not None:
        return made("image", media_type=image)
    data, truncated = _head(store, file)
    text = _decode(data, truncated)
    if text is None:
        return made("binary", truncated=truncated, verified=not truncated)
    ext = _extension(file.path)
    if ext in ("csv", "tsv"):
        reader = csv.reader(io.StringIO(text), delimiter="\t" if ext == "tsv" else ",")
        rows = [row for _, row in zip(range(TABLE_ROWS + 1), reader)]
        cut = truncated or len(rows) > TABLE_ROWS
        return made("table", rows=rows[:TABLE_ROWS], truncated=cut, verified=not truncated)
    kind = "model" if file.path.rsplit("/", 1)[-1] == MODEL_FILE else "text"
    language = "yaml" if kind == "model" else _LANGUAGES.get(ext)
    return made(kind, language=language, text=text, truncated=truncated, verified=not truncated)


def model_folders(files: list[ArtifactFile]) -> list[str]:
    """Folders holding a logged model (an ``MLmodel`` descriptor), sorted."""
    return sorted(f.path.rpartition("/")[0] for f in files if f.path.rpartition("/")[2] == MODEL_FILE)
