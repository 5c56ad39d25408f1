"""Objects by address: ``gitrun pull <hash>`` for any file or directory manifest.

A digest is ``sha256:<hex>``, its 64 hex digits alone, or a unique prefix of at
least :data:`MIN_PREFIX` hex digits among the objects of the local store (a
remote is never listed to expand a prefix: give the full digest to fetch).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gitrun.core.artifacts.digest import ALGORITHM, Digest
from gitrun.core.artifacts.manifest import Manifest, is_manifest, load_manifest
from gitrun.core.artifacts.placement import place_files
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking.artifacts.stores import ArtifactStores, stores_for
from gitrun.tracking.store import TrackingStore

MIN_PREFIX = 8
_HEX = re.compile(r"[0-9a-f]+")


def resolve_digest(stores: ArtifactStores, text: str) -> Digest:
    """The object a full digest or a unique hex prefix names.

    Raises:
        InvalidParameterValue: malformed, too short, or ambiguous.
        ResourceDoesNotExist: a prefix that no local object starts with.
    """
    value = text.strip().lower()
    algorithm, sep, hexdigest = value.rpartition(":")
    if not sep:
        algorithm, hexdigest = ALGORITHM, value
    if algorithm != ALGORITHM or not _HEX.fullmatch(hexdigest):
        raise InvalidParameterValue(f"{text!r} is not a digest: expected sha256:<hex> or a hex prefix")
    if len(hexdigest) == 64:
        return Digest(algorithm, hexdigest)
    if len(hexdigest) < MIN_PREFIX:
        raise InvalidParameterValue(
            f"digest prefix {text!r} is too short: give at least {MIN_PREFIX} hex digits"
        )
    found = sorted(d for d in stores.local.iter_digests() if d.hexdigest.startswith(hexdigest))
    if not found:
        raise ResourceDoesNotExist(
            f"no object in the local store {stores.local.url} starts with {hexdigest}; give the full "
            "digest to fetch it from the artifact remote"
        )
    if len(found) > 1:
        shown = ", ".join(d.short() for d in found[:5])
        raise InvalidParameterValue(f"digest prefix {hexdigest} is ambiguous: {shown}; give more digits")
    return found[0]


def _manifest_or_none(stores: ArtifactStores, digest: Digest) -> Manifest | None:
    if not is_manifest(stores.local, digest):
        return None
    try:
        return load_manifest(stores.local, digest)
    except InvalidParameterValue:
        return None  # a file that merely starts like a manifest


def pull(store: TrackingStore, text: str, output: str | os.PathLike[str] | None = None) -> tuple[Path, int]:
    """Write the object ``text`` names to ``output`` (default ``./<first 12 hex digits>``),
    verified and atomically; a directory manifest becomes a directory.

    Returns:
        The path written and the number of files.
    """
    stores = stores_for(store)
    digest = resolve_digest(stores, text)
    stores.ensure_local([digest])
    target = Path(output) if output is not None else Path(digest.hexdigest[:12])
    manifest = _manifest_or_none(stores, digest)
    if manifest is None:
        if target.is_dir():
            raise InvalidParameterValue(
                f"cannot write object {digest.short()} to {target}: it is a directory"
            )
        stores.local.get_file(digest, target)
        return target, 1
    files = {e.path: e.digest for e in manifest.entries}
    stores.ensure_local(files.values())
    place_files(stores.local, files, target)
    return target, len(files)


def bytes_digest(data: bytes) -> str:
    """The address (``sha256:<hex>``) ``data`` has, or would have, in an artifact store."""
    from gitrun.core.artifacts.digest import hash_bytes

    return str(hash_bytes(data))


def file_digest(path: str | os.PathLike[str]) -> str:
    """The address (``sha256:<hex>``) the file at ``path`` has in an artifact store."""
    from gitrun.core.artifacts.digest import hash_file

    return str(hash_file(path)[0])
