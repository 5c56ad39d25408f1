"""Refs: read, compare-and-swap, delete, list.

Writes follow git's lock-file protocol (``<ref>.lock`` created exclusively, then
renamed over the ref), so gitrun can share a repository with C git.  gitrun writers
additionally hold an ``flock`` on a per-ref file while they own the ``.lock``: the
kernel drops it when a process dies, so a ``.lock`` found while holding the flock
and outliving git's own short hold times can only be left by a killed gitrun
writer, and is safe to break.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from gitrun.core.git.objects import Oid

_STALE_LOCK_SECONDS = 5.0


class RefStore:
    def __init__(self, common_dir: str, flock_dir: str) -> None:
        self.common_dir = common_dir
        self.flock_dir = flock_dir

    def _path(self, name: str) -> str:
        return os.path.join(self.common_dir, *name.split("/"))

    def read(self, name: str) -> Oid | None:
        try:
            with open(self._path(name), "rb") as fh:
                value = fh.read().strip()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._read_packed(name)
        if value.startswith(b"ref: "):
            return self.read(value[5:].decode())
        return Oid(value.decode()) if value else None

    def _read_packed(self, name: str) -> Oid | None:
        try:
            with open(os.path.join(self.common_dir, "packed-refs"), "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        needle = b" " + name.encode() + b"\n"
        at = data.find(needle)
        if at < 0:
            if data.endswith(b" " + name.encode()):
                at = len(data) - len(name) - 1
            else:
                return None
        start = data.rfind(b"\n", 0, at) + 1
        return Oid(data[start:at].decode())

    def list(self, prefix: str) -> dict[str, Oid]:
        """All refs whose name starts with ``prefix`` (a folder, ending in ``/``)."""
        found: dict[str, Oid] = {}
        try:
            with open(os.path.join(self.common_dir, "packed-refs"), "rb") as fh:
                for line in fh:
                    if line[:1] in (b"#", b"^"):
                        continue
                    oid, _, raw_name = line.strip().partition(b" ")
                    ref = raw_name.decode()
                    if ref.startswith(prefix):
                        found[ref] = Oid(oid.decode())
        except FileNotFoundError:
            pass
        root = self._path(prefix.rstrip("/"))
        for folder, _dirs, files in os.walk(root):
            for file in files:
                if file.endswith(".lock"):
                    continue
                full = os.path.join(folder, file)
                name = os.path.relpath(full, self.common_dir).replace(os.sep, "/")
                value = self.read(name)
                if value:
                    found[name] = value
        return found

    def compare_and_swap(self, name: str, old: Oid | None, new: Oid | None) -> bool:
        """Point ``name`` at ``new`` if it still points at ``old``.

        ``old=None`` means "must not exist"; ``new=None`` deletes the ref.  Returns
        False (changing nothing) when another writer moved the ref first.
        """
        path = self._path(name)
        with self._flock(name):
            if new is None and old is not None and self._read_packed(name) is not None:
                return self._delete_packed(name, old)
            lock = path + ".lock"
            fd = self._create_lock(lock)
            try:
                if self.read(name) != old:
                    return False
                if new is None:
                    os.close(fd)
                    fd = -1
                    os.unlink(path)
                    os.unlink(lock)
                    return True
                os.write(fd, new.encode() + b"\n")
                os.close(fd)
                fd = -1
                os.replace(lock, path)
                return True
            finally:
                if fd != -1:
                    os.close(fd)
                    os.unlink(lock)

    def _delete_packed(self, name: str, old: Oid) -> bool:
        # Rare (only after `git pack-refs`): let git rewrite packed-refs itself; its
        # `update-ref -d NAME OLD` is a compare-and-delete.
        from gitrun.core.git.cli import run_git
        from gitrun.errors import GitCommandError

        try:
            run_git(["update-ref", "-d", name, old], git_dir=self.common_dir)
        except GitCommandError:
            return False
        return True

    def _create_lock(self, lock: str) -> int:
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        waited = 0.0
        delay = 0.001
        while True:
            try:
                return os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if waited >= _STALE_LOCK_SECONDS:
                    # We hold the flock, so no live gitrun writer owns this lock file,
                    # and git holds its ref locks for milliseconds.
                    try:
                        os.unlink(lock)
                    except FileNotFoundError:
                        pass
                    waited = 0.0
                    continue
                time.sleep(delay)
                waited += delay
                delay = min(delay * 2, 0.05)

    @contextmanager
    def _flock(self, name: str) -> Iterator[None]:
        os.makedirs(self.flock_dir, exist_ok=True)
        path = os.path.join(self.flock_dir, name.replace("/", "%") + ".flock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
