"""The storage primitives an artifact store needs, and how to pick a backend.

A backend maps keys (relative POSIX paths, see :mod:`layout`) to immutable
blobs.  It knows nothing about digests: :class:`~.store.ArtifactStore` computes
addresses and verifies content; the backend only moves bytes, atomically.

Two implementations: :class:`~.local.LocalBackend` (a folder, plain ``os``
calls) and :class:`~.fsspec_backend.FsspecBackend` (any fsspec URL).
"""

from __future__ import annotations

import importlib.util
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

from gitrun.errors import InvalidParameterValue, StoreUnavailable

# protocol -> (module that implements it, extra to install)
_OPTIONAL_CLIENTS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
}


class Backend(Protocol):
    """Create-only, atomic storage of blobs under keys.

    Every method raises only :mod:`gitrun.errors` classes:
    ``ResourceDoesNotExist`` for a missing key, ``StoreUnavailable`` when the
    storage cannot be reached or refuses.
    """

    @property
    def url(self) -> str:
        """Where the store is, for messages (never contains credentials)."""
        ...

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` present, found by listing folders, not by
        one request per key."""
        ...

    def put_file(
        self,
        key: str,
        local_path: str | os.PathLike[str],
        on_progress: Callable[[int], None] | None = None,
    ) -> bool:
        """Store a local file under ``key`` unless ``key`` exists.

        Readers never see a partial blob under ``key``.

        Returns:
            True if this call created ``key``, False if it already existed.
        """
        ...

    def put_bytes(self, key: str, data: bytes) -> bool:
        """Like :meth:`put_file`, for bytes in memory."""
        ...

    def open_read(self, key: str) -> io.RawIOBase:
        """A stream of the blob under ``key`` (read in blocks, never whole)."""
        ...

    def size(self, key: str) -> int:
        """The size in bytes of the blob under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    def move(self, src: str, dst: str) -> None:
        """Move the blob under ``src`` to ``dst`` (used for quarantine)."""
        ...

    def iter_keys(self, prefix: str) -> Iterator[str]:
        """Every key below the folder ``prefix`` (recursively)."""
        ...


def _split_url(url: str) -> tuple[str, str]:
    protocol, sep, rest = url.partition("://")
    if not sep:
        return "", url
    return protocol.lower(), rest


def open_backend(url: str, options: Mapping[str, object] | None = None) -> Backend:
    """The backend for a store URL.

    Args:
        url: a local path, ``file://`` URL, or any fsspec URL
            (``s3://bucket/prefix``, ``gs://bucket/prefix``, ``memory://x``).
        options: fsspec storage options (e.g. ``endpoint_url``), passed
            explicitly; credentials normally come from the environment.

    Raises:
        InvalidParameterValue: the URL or protocol is not usable.
        StoreUnavailable: the package for the protocol is not installed.
    """
    if not isinstance(url, str) or not url:
        raise InvalidParameterValue(f"a store URL must be a non-empty string, got {url!r}")
    protocol, rest = _split_url(url)
    if protocol in ("", "file"):
        if options:
            names = ", ".join(sorted(options))
            raise InvalidParameterValue(f"storage options ({names}) do not apply to the local store {url!r}")
        from gitrun.core.artifacts.local import LocalBackend

        return LocalBackend(rest if protocol else url)
    client = _OPTIONAL_CLIENTS.get(protocol)
    if client is not None and importlib.util.find_spec(client[0]) is None:
        module, extra = client
        raise StoreUnavailable(
            f"{protocol}:// stores need the {module} package: pip install 'gitrun[{extra}]'"
        )
    from gitrun.core.artifacts.fsspec_backend import FsspecBackend

    return FsspecBackend(url, options)
