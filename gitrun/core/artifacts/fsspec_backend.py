"""A store on any fsspec filesystem: S3, GCS, memory, shared folders...

Publishing is protocol-dependent:

* object stores (S3, GCS) make a PUT visible only once complete, so a blob is
  uploaded straight to its key with a create-only precondition
  (``If-None-Match: *`` / ``ifGenerationMatch=0``): it never overwrites;
* every other filesystem gets the blob under a temporary key in the same
  folder, then a move.

Credentials are never taken here: fsspec and the cloud clients find them in
the environment as usual; ``storage_options`` carry only what the caller
passes explicitly (an endpoint, a profile...).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import posixpath
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.boundary import display_url, store_errors
from gitrun.core.artifacts.streams import write_all
from gitrun.errors import InvalidParameterValue, StoreUnavailable

_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs"})
_READ_BLOCK = 8 * 2**20
_LIST_PAGE = 1000  # keys per listing request on S3 and GCS
_MIN_PART = 8 * 2**20  # multipart chunk: memory is about max_concurrency x this


class FsspecBackend:
    """Blobs below ``url`` on an fsspec filesystem."""

    def __init__(self, url: str, storage_options: Mapping[str, object] | None = None) -> None:
        self._url = display_url(url.rstrip("/"))
        options = dict(storage_options or {})
        with store_errors(self._url, "opening the store"):
            try:
                from fsspec.core import url_to_fs

                fs, root = url_to_fs(url, **options)
            except ValueError as error:
                raise InvalidParameterValue(f"cannot use store {self._url}: {error}") from error
            except ImportError as error:
                raise StoreUnavailable(f"cannot use store {self._url}: {error}") from error
        self._fs: Any = fs
        self._root = str(root).rstrip("/")
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        self._protocols = frozenset(protocols)
        self._object_store = bool(self._protocols & _OBJECT_STORES)

    def __repr__(self) -> str:
        return f"FsspecBackend({self._url!r})"

    @property
    def url(self) -> str:
        return self._url

    def _path(self, key: str) -> str:
        layout.check_key(key)
        return f"{self._root}/{key}" if self._root else key

    def _relative(self, path: str) -> str:
        path = path.rstrip("/")
        prefix = f"{self._root}/" if self._root else ""
        return path.removeprefix(prefix)

    def _list(self, folder: str) -> list[str]:
        """Keys below ``folder`` (a key prefix, '' for all), one listing."""
        path = self._path(folder) if folder else self._root
        with store_errors(self._url, f"listing {folder or '/'}"):
            self._fs.invalidate_cache(path)
            found = self._fs.find(path)
        return [self._relative(p) for p in found]

    def _count_folders(self, folder: str) -> int:
        path = self._path(folder) if folder else self._root
        with store_errors(self._url, f"listing {folder or '/'}"):
            self._fs.invalidate_cache(path)
            try:
                return len(self._fs.ls(path, detail=False))
            except FileNotFoundError:
                return 0

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        """List each folder holding a wanted key, or, when that would take
        more requests, the whole common folder once (estimated from the first
        folder's listing, as DVC does)."""
        wanted = {layout.check_key(k) for k in keys}
        by_folder: defaultdict[str, set[str]] = defaultdict(set)
        for key in wanted:
            by_folder[posixpath.dirname(key)].add(key)
        folders = sorted(by_folder)
        if not folders:
            return set()
        if len(wanted) == 1:  # one HEAD-like request beats listing a folder
            (key,) = wanted
            with store_errors(self._url, f"looking up {key}"):
                return wanted if self._exists(self._path(key)) else set()
        first = set(self._list(folders[0]))
        present = by_folder[folders[0]] & first
        rest = folders[1:]
        if not rest:
            return present
        common = posixpath.commonpath(folders)
        siblings = self._count_folders(common) if len(rest) > 2 else 0
        if prefer_one_listing(len(first), siblings, len(rest)):
            return wanted & set(self._list(common))
        for folder in rest:
            present |= by_folder[folder] & set(self._list(folder))
        return present

    def put_file(
        self,
        key: str,
        local_path: str | os.PathLike[str],
        on_progress: Callable[[int], None] | None = None,
    ) -> bool:
        path = self._path(key)
        local = os.fspath(local_path)
        callback = _callback(on_progress)
        with store_errors(self._url, f"uploading {key}"):
            if self._object_store:
                try:
                    self._fs.put_file(
                        local,
                        path,
                        mode="create",
                        callback=callback,
                        **self._chunking(local),
                    )
                except FileExistsError:
                    return False
                return True
            if self._exists(path):
                return False
            temp = self._path(layout.temp_key_beside(key))
            self._fs.makedirs(posixpath.dirname(temp), exist_ok=True)
            try:
                self._fs.put_file(local, temp, callback=callback)
                return self._move_into_place(temp, path)
            finally:
                self._remove_quietly(temp)

    def put_bytes(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        with store_errors(self._url, f"uploading {key}"):
            if self._object_store:
                try:
                    self._fs.pipe_file(path, data, mode="create")
                except FileExistsError:
                    return False
                return True
            if self._exists(path):
                return False
            temp = self._path(layout.temp_key_beside(key))
            self._fs.makedirs(posixpath.dirname(temp), exist_ok=True)
            try:
                self._fs.pipe_file(temp, data)
                return self._move_into_place(temp, path)
            finally:
                self._remove_quietly(temp)

    def _move_into_place(self, temp: str, path: str) -> bool:
        # Not create-only: another writer may have published meanwhile.
        # Both wrote the same bytes (the key is their hash), so either is right.
        if self._exists(path):
            return False
        self._fs.mv(temp, path)
        return True

    def _exists(self, path: str) -> bool:
        # Not fs.exists(): fsspec's default returns False on *any* error,
        # which would turn an unreachable store into "object missing".
        self._fs.invalidate_cache(path)
        try:
            self._fs.info(path)
        except FileNotFoundError:
            return False
        return True

    def _remove_quietly(self, path: str) -> None:
        # Best effort: never hide the error that brought us here.
        with contextlib.suppress(Exception):
            if self._fs.exists(path):
                self._fs.rm_file(path)

    def _chunking(self, local: str) -> dict[str, int]:
        """Part size for multipart uploads: small enough to bound memory
        (s3fs holds ``max_concurrency`` parts at once), large enough to stay
        under 10,000 parts."""
        size = os.path.getsize(local)
        chunk = max(_MIN_PART, math.ceil(size / 9000))
        if self._protocols & {"gs", "gcs"}:
            quantum = 256 * 2**10  # GCS resumable chunks are multiples of 256 KiB
            chunk = math.ceil(chunk / quantum) * quantum
        return {"chunksize": chunk}

    stages_cheaply = False
    """Uploads cost far more than hashing: hash first, upload only what is missing."""

    def open_staging(self) -> _SpooledStaging:
        """Staging in a local temporary file, uploaded under its key by ``publish``."""
        return _SpooledStaging(self)

    def touch(self, key: str) -> None:
        """Nothing to do: ``gitrun gc`` never removes objects from a remote store."""

    def local_path(self, key: str) -> None:
        return None

    def open_read(self, key: str) -> io.RawIOBase:
        with store_errors(self._url, f"reading {key}", missing=f"{key} not found"):
            self._fs.invalidate_cache(self._path(key))
            stream = self._fs.open(self._path(key), "rb", block_size=_READ_BLOCK)
        return _TranslatingReader(stream, self._url, key)

    def size(self, key: str) -> int:
        with store_errors(self._url, f"reading {key}", missing=f"{key} not found"):
            self._fs.invalidate_cache(self._path(key))
            return int(self._fs.size(self._path(key)))

    def delete(self, key: str) -> None:
        with store_errors(self._url, f"deleting {key}"):
            try:
                self._fs.rm_file(self._path(key))
            except FileNotFoundError:
                pass

    def move(self, src: str, dst: str) -> None:
        with store_errors(self._url, f"moving {src} to {dst}", missing=f"{src} not found"):
            if not self._object_store:
                self._fs.makedirs(posixpath.dirname(self._path(dst)), exist_ok=True)
            self._fs.mv(self._path(src), self._path(dst))

    def iter_keys(self, prefix: str) -> Iterator[str]:
        yield from self._list(prefix)

    def abort_abandoned_uploads(self, older_than: float) -> int:
        """Abort multipart uploads below this store started more than ``older_than``
        seconds ago (a killed upload leaves its parts, billed, forever).  S3 only.

        Returns:
            How many uploads were aborted.
        """
        if not self._protocols & {"s3", "s3a"} or not self._root:
            return 0
        import datetime

        bucket, _, prefix = self._root.partition("/")
        cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=older_than)
        aborted = 0
        markers: dict[str, str] = {}
        with store_errors(self._url, "listing unfinished uploads"):
            while True:
                listing = self._fs.call_s3(
                    "list_multipart_uploads", Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", **markers
                )
                for upload in listing.get("Uploads", []):
                    started = upload.get("Initiated")
                    if isinstance(started, datetime.datetime) and started <= cutoff:
                        self._fs.call_s3(
                            "abort_multipart_upload",
                            Bucket=bucket,
                            Key=upload["Key"],
                            UploadId=upload["UploadId"],
                        )
                        aborted += 1
                if not listing.get("IsTruncated"):
                    return aborted
                markers = {
                    "KeyMarker": listing.get("NextKeyMarker", ""),
                    "UploadIdMarker": listing.get("NextUploadIdMarker", ""),
                }


class _SpooledStaging:
    """A blob on its way to a remote store: written to a local temporary file, then
    uploaded create-only by :meth:`publish` (the upload itself is atomic, see
    :meth:`FsspecBackend.put_file`)."""

    def __init__(self, backend: FsspecBackend) -> None:
        self._backend = backend
        with store_errors(backend.url, "creating a staging file"):
            fd, self._path = tempfile.mkstemp(prefix="gitrun-staging-")
        self._file = os.fdopen(fd, "wb", buffering=0)

    def write(self, data: memoryview, /) -> int:
        with store_errors(self._backend.url, "writing a staging file"):
            write_all(self._file, data)
        return len(data)

    def publish(self, key: str) -> bool:
        try:
            self._file.close()
            return self._backend.put_file(key, self._path)
        finally:
            self.abort()

    def abort(self) -> None:
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)

    def __enter__(self) -> _SpooledStaging:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.abort()


def prefer_one_listing(first_folder_keys: int, folders: int, folders_left: int) -> bool:
    """Whether one listing of the common folder costs fewer requests than
    listing each of the ``folders_left`` folders still to look at.

    Args:
        first_folder_keys: keys found in the first folder listed, taken as
            typical of every folder.
        folders: folders in the common folder (0: unknown, list each).
        folders_left: folders holding wanted keys not listed yet.
    """
    if not folders:
        return False
    per_folder = max(1, math.ceil(first_folder_keys / _LIST_PAGE))
    whole = max(1, math.ceil(first_folder_keys * folders / _LIST_PAGE))
    return whole < folders_left * per_folder


class _TranslatingReader(io.RawIOBase):
    """A read-only stream over an fsspec file that raises gitrun errors."""

    def __init__(self, stream: Any, store: str, key: str) -> None:
        super().__init__()
        self._stream = stream
        self._store = store
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with store_errors(self._store, f"reading {self._key}", missing=f"{self._key} not found"):
            got = self._stream.readinto(buffer)
        return int(got or 0)

    def close(self) -> None:
        if not self.closed:
            try:
                self._stream.close()
            finally:
                super().close()


def _callback(on_progress: Callable[[int], None] | None) -> Any:
    from fsspec.callbacks import Callback, NoOpCallback

    if on_progress is None:
        return NoOpCallback()

    class _Forward(Callback):  # type: ignore[misc]
        """Forwards byte increments; clients report relative or absolute."""

        def __init__(self) -> None:
            super().__init__()
            self._last = 0

        def absolute_update(self, value: int) -> None:
            delta, self._last = value - self._last, value
            if delta > 0:
                assert on_progress is not None
                on_progress(delta)

        def relative_update(self, inc: int = 1) -> None:
            self.absolute_update(self._last + inc)

    return _Forward()
