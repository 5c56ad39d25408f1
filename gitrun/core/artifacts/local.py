"""A store in a local folder, with plain ``os`` calls (no fsspec).

Blobs are written to a temporary name on the same filesystem, made read-only,
then published with ``os.link`` -- atomic and create-only: a reader sees the
whole blob under its key or nothing, and an existing blob is never replaced.

A local store can also *stage*: the artifact store streams a file into a
staging file while hashing it, then publishes it under the address it just
computed -- one pass over the bytes.

Durability: by default blobs are not fsynced.  A killed process never leaves a
partial blob under a key; a power loss may, and reads and ``fsck`` detect it.
Pass ``fsync=True`` to flush every blob (and its folder) before publishing.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import secrets
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.boundary import store_errors
from gitrun.core.artifacts.streams import BLOCK_SIZE, read_full, write_all

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
# os.link is unsupported on some filesystems (FAT, some network mounts).
_NO_LINK = {
    errno.EPERM,
    errno.ENOTSUP,
    errno.EOPNOTSUPP,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
}


class StagedFile:
    """A temporary file inside the store, published under a key when complete.

    Use as a context manager; the file is removed on exit unless published.
    """

    def __init__(self, backend: LocalBackend, path: Path) -> None:
        self._backend = backend
        self.path = path
        self.file: io.FileIO = open(path, "xb", buffering=0)
        lock_temp(self.file)

    def write(self, data: memoryview, /) -> int:
        with store_errors(self._backend.url, "writing a staging file"):
            written = self.file.write(data)
        return len(data) if written is None else written

    def publish(self, key: str) -> bool:
        """Close the file and make it the blob under ``key`` (create-only).

        Returns:
            True if ``key`` was created, False if it already existed.
        """
        try:
            # Published while still open, so still locked: gc never takes it for a leftover.
            return self._backend.publish(self.path, key)
        finally:
            self.file.close()

    def abort(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)

    close = abort

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class LocalBackend:
    """Blobs as read-only files below ``root``."""

    stages_cheaply = True
    """Staging is a file in the store's own folder: publishing it is a hard link."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.root = Path(root).expanduser().absolute()
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalBackend({str(self.root)!r})"

    @property
    def url(self) -> str:
        return str(self.root)

    def path(self, key: str) -> Path:
        """The local path of ``key``."""
        return self.root.joinpath(*layout.check_key(key).split("/"))

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        by_folder: defaultdict[str, set[str]] = defaultdict(set)
        for key in keys:
            folder, _, name = layout.check_key(key).rpartition("/")
            by_folder[folder].add(name)
        present: set[str] = set()
        for folder, names in by_folder.items():
            with store_errors(self.url, f"listing {folder or '/'}"):
                try:
                    listed = set(os.listdir(self.root.joinpath(*folder.split("/"))))
                except (FileNotFoundError, NotADirectoryError):
                    continue
            prefix = f"{folder}/" if folder else ""
            present.update(prefix + name for name in names & listed)
        return present

    def local_path(self, key: str) -> str:
        return str(self.path(key))

    def open_staging(self) -> StagedFile:
        """A new staging file inside the store (same filesystem as objects)."""
        folder = self.root / layout.STAGING
        with store_errors(self.url, "creating a staging file"):
            folder.mkdir(parents=True, exist_ok=True)
            return StagedFile(self, folder / f"{layout.TEMP_PREFIX}{secrets.token_hex(8)}")

    def sweep_staging(self, min_age: float) -> int:
        """Remove staging files of dead writers (unlocked, older than ``min_age`` s)."""
        import time

        removed = 0
        try:
            names = os.listdir(self.root / layout.STAGING)
        except OSError:
            return 0
        now = time.time()
        for name in names:
            path = self.root / layout.STAGING / name
            try:
                old = now - path.stat().st_mtime > min_age
            except OSError:
                continue
            if name.startswith(layout.TEMP_PREFIX) and old and not temp_in_use(path):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def publish(self, temp: Path, key: str) -> bool:
        """Move the complete file ``temp`` (inside the store) to ``key``."""
        dest = self.path(key)
        with store_errors(self.url, f"writing {key}"):
            try:
                os.chmod(temp, _READ_ONLY)
                if self.fsync:
                    _fsync_path(temp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                created = _link_create_only(temp, dest)
                if created and self.fsync:
                    _fsync_path(dest.parent)
                if not created:
                    _touch(dest)
                return created
            finally:
                temp.unlink(missing_ok=True)

    def put_file(
        self,
        key: str,
        local_path: str | os.PathLike[str],
        on_progress: Callable[[int], None] | None = None,
    ) -> bool:
        dest = self.path(key)
        if dest.exists():
            _touch(dest)
            return False
        with store_errors(self.url, f"writing {key}"):
            dest.parent.mkdir(parents=True, exist_ok=True)
            temp = dest.parent / f"{layout.TEMP_PREFIX}{secrets.token_hex(8)}"
            try:
                with (
                    open(local_path, "rb", buffering=0) as src,
                    open(temp, "xb", buffering=0) as dst,
                ):
                    lock_temp(dst)
                    _copy(src, dst, on_progress)
                    return self.publish(temp, key)  # still locked: see lock_temp
            except BaseException:
                temp.unlink(missing_ok=True)
                raise

    def put_bytes(self, key: str, data: bytes) -> bool:
        dest = self.path(key)
        if dest.exists():
            _touch(dest)
            return False
        with store_errors(self.url, f"writing {key}"):
            dest.parent.mkdir(parents=True, exist_ok=True)
            temp = dest.parent / f"{layout.TEMP_PREFIX}{secrets.token_hex(8)}"
            try:
                with open(temp, "xb", buffering=0) as dst:
                    lock_temp(dst)
                    write_all(dst, memoryview(data))
                    return self.publish(temp, key)  # still locked: see lock_temp
            except BaseException:
                temp.unlink(missing_ok=True)
                raise

    def touch(self, key: str) -> None:
        """Mark the blob under ``key`` as just used (see ``gitrun gc``'s grace period)."""
        _touch(self.path(key))

    def open_read(self, key: str) -> io.RawIOBase:
        with store_errors(self.url, f"reading {key}", missing=f"{key} not found"):
            return open(self.path(key), "rb", buffering=0)

    def size(self, key: str) -> int:
        with store_errors(self.url, f"reading {key}", missing=f"{key} not found"):
            return self.path(key).stat().st_size

    def delete(self, key: str) -> None:
        with store_errors(self.url, f"deleting {key}"):
            self.path(key).unlink(missing_ok=True)

    def move(self, src: str, dst: str) -> None:
        target = self.path(dst)
        with store_errors(self.url, f"moving {src} to {dst}", missing=f"{src} not found"):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path(src), target)

    def iter_keys(self, prefix: str) -> Iterator[str]:
        top = self.path(prefix) if prefix else self.root
        with store_errors(self.url, f"listing {prefix or '/'}"):
            walked = list(os.walk(top))
        for folder, _dirs, files in walked:
            relative = Path(folder).relative_to(self.root).as_posix()
            for name in files:
                yield name if relative == "." else f"{relative}/{name}"


def lock_temp(file: io.FileIO) -> None:
    """Lock a temporary file for as long as it is open: ``gitrun gc`` removes only
    temporary files whose lock it can take (their writer is gone), whatever their age."""
    fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def temp_in_use(path: Path) -> bool:
    """Whether a live writer holds the temporary file at ``path`` (see :func:`lock_temp`)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _touch(path: Path) -> None:
    """Mark an existing blob as just used: ``gitrun gc`` keeps recently touched
    objects, so an object a new, not yet committed run refers to survives."""
    try:
        os.utime(path)
    except OSError:
        pass  # best effort: a read-only store still works, gc's grace is shorter


def _link_create_only(temp: Path, dest: Path) -> bool:
    try:
        os.link(temp, dest)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _NO_LINK:
            raise
        # No hard links here: a rename is still atomic, but two writers may
        # both rename; they write identical bytes, so either result is right.
        if dest.exists():
            return False
        os.replace(temp, dest)
    return True


def _copy(src: io.FileIO, dst: io.FileIO, on_progress: Callable[[int], None] | None) -> None:
    buffer = memoryview(bytearray(BLOCK_SIZE))
    while got := read_full(src, buffer):
        write_all(dst, buffer[:got])
        if on_progress is not None:
            on_progress(got)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
