"""The storage primitives an artifact store needs, and how to pick a backend.

A backend maps keys (relative POSIX paths, see :mod:`layout`) to immutable
blobs.  It knows nothing about digests: :class:`~.store.ArtifactStore` computes
addresses and verifies content; the backend only moves bytes, atomically.

Two implementations: :class:`~.local.LocalBackend` (a folder, plain ``os``
calls) and :class:`~.fsspec_backend.FsspecBackend` (any fsspec URL).  The store
uses nothing but this protocol, so a third-party backend gets every path the local
one does: a backend whose staging is cheap (:attr:`Backend.stages_cheaply`) gets the
one-pass write (hash while copying into staging, then publish under the digest).
"""

from __future__ import annotations

import importlib.util
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Protocol

from gitrun.errors import InvalidParameterValue, StoreUnavailable

# protocol -> (module that implements it, extra to install)
_OPTIONAL_CLIENTS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
}


class Staged(Protocol):
    """A blob being written whose key is not known yet (it is the digest of what is
    written): ``write`` the bytes, then ``publish`` it under its key, or ``abort``.
    As a context manager it aborts on exit unless it was published."""

    def write(self, data: memoryview, /) -> int:
        """Append ``data``; the number of bytes written (all of them)."""
        ...

    def publish(self, key: str) -> bool:
        """Make what was written the blob under ``key`` (create-only, atomic).

        Returns:
            True if this call created ``key``, False if it already existed.
        """
        ...

    def abort(self) -> None:
        """Drop what was written; nothing appears under any key."""
        ...

    def __enter__(self) -> Staged: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


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

    @property
    def stages_cheaply(self) -> bool:
        """True when writing into staging costs about what reading the source does (a
        local disk): the store then hashes while it copies, in one pass, even when the
        blob may exist already.  False (a remote store): it hashes first and uploads
        only what the store lacks."""
        ...

    def open_staging(self) -> Staged:
        """A new :class:`Staged` blob in this store."""
        ...

    def touch(self, key: str) -> None:
        """Mark the existing blob under ``key`` as just used (``gitrun gc`` counts its
        grace period from then); a backend with no such notion does nothing."""
        ...

    def local_path(self, key: str) -> str | None:
        """A local file holding the blob under ``key`` (never to be written), or None
        when the backend keeps blobs elsewhere."""
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
