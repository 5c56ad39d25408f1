"""Refs: read, compare-and-swap, delete, list, in whatever ref backend a repository uses.

Two implementations share one contract (:class:`RefStore`):

* :class:`FileRefs`, for the ``files`` backend (every repository before reftable):
  plain Python, git's own lock-file protocol, a reflog line per update.  This is the
  fast path: a flush moves ``refs/gitrun/records`` in microseconds.
* :class:`GitRefs`, for every other backend (``reftable``, and any future one): reads
  through ``git rev-parse``/``for-each-ref``, and a real compare-and-swap through
  ``git update-ref --stdin`` with the old value, so git's own locking and format apply.

Locks (files backend).  A ``<ref>.lock`` may belong to C git (a slow update, a
network filesystem) or to a gitrun writer that was killed while holding it.  gitrun
writers hold an ``flock`` on a per-ref file while they own ``<ref>.lock``, and
record which lock file is theirs (device, inode, mtime, size) in an owner file before
it appears.  A gitrun writer that holds the flock and finds a ``.lock`` matching the
owner record knows its owner is dead (the kernel released the dead writer's flock),
and only then breaks it.  Any other lock is waited for and never broken, however old:
after ``lock_timeout`` seconds the update fails with git's own advice.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from gitrun.core.git import fs
from gitrun.core.git.identity import signature
from gitrun.core.git.objects import Oid
from gitrun.errors import GitCommandError, GitrunError, RefConflict

MAX_SYMREF_DEPTH = 5  # git's SYMREF_MAXDEPTH
DEFAULT_LOCK_TIMEOUT = 10.0


class RefStore(Protocol):
    def read(self, name: str) -> Oid | None:
        """The object ``name`` points at (symbolic refs followed), or None."""

    def reflog(self, name: str) -> list[Oid]:
        """The values ``name`` had, newest first, from its reflog (empty without one)."""

    def list(self, prefix: str) -> dict[str, Oid]:
        """All refs whose name starts with ``prefix`` (a folder, ending in ``/``)."""

    def compare_and_swap(self, name: str, old: Oid | None, new: Oid | None, message: str = "gitrun") -> bool:
        """Point ``name`` at ``new`` if it still points at ``old``.

        ``old=None`` means "must not exist"; ``new=None`` deletes the ref.  Returns
        False (changing nothing) when another writer moved the ref first.
        """

    def head(self, git_dir: str) -> tuple[str | None, Oid | None]:
        """HEAD of the work tree whose git dir is ``git_dir``: (full branch ref, commit)."""


class SymrefLoop(GitrunError):
    pass


class FileRefs:
    """The ``files`` ref backend, read and written in plain Python."""

    def __init__(self, common_dir: str, flock_dir: str, *, oid_size: int = 20, shared: int = 0) -> None:
        self.common_dir = common_dir
        self.flock_dir = flock_dir
        self.zero = "0" * (oid_size * 2)
        self.shared = shared
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT

    def _path(self, name: str) -> str:
        return os.path.join(self.common_dir, *name.split("/"))

    # -- reading -------------------------------------------------------------------------

    def read(self, name: str) -> Oid | None:
        return self._resolve(name, self.common_dir)

    def _resolve(self, name: str, folder: str) -> Oid | None:
        # As git: at most MAX_SYMREF_DEPTH files are read (the name, then each target).
        for _depth in range(MAX_SYMREF_DEPTH):
            value = _read_loose(os.path.join(folder, *name.split("/")))
            if value is None:
                return self._read_packed(name)
            if not value.startswith(b"ref: "):
                return Oid(value.decode()) if value else None
            name = value[5:].decode("utf-8", "surrogateescape").strip()
            folder = self.common_dir
        raise SymrefLoop(f"symbolic ref {name} nests more than {MAX_SYMREF_DEPTH} levels (a cycle?)")

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

    def head(self, git_dir: str) -> tuple[str | None, Oid | None]:
        value = _read_loose(os.path.join(git_dir, "HEAD"))
        if value is None:
            return None, None
        if value.startswith(b"ref: "):
            branch = value[5:].decode("utf-8", "surrogateescape").strip()
            return branch, self.read(branch)
        return None, Oid(value.decode()) if value else None

    def reflog(self, name: str) -> list[Oid]:
        try:
            with open(os.path.join(self.common_dir, "logs", *name.split("/")), "rb") as fh:
                lines = fh.read().splitlines()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return []
        values = []
        for line in reversed(lines):
            fields = line.split(b" ", 2)
            if len(fields) == 3 and fields[1] != self.zero.encode():
                values.append(Oid(fields[1].decode()))
        return values

    def list(self, prefix: str) -> dict[str, Oid]:
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

    # -- writing -------------------------------------------------------------------------

    def compare_and_swap(self, name: str, old: Oid | None, new: Oid | None, message: str = "gitrun") -> bool:
        path = self._path(name)
        with self._flock(name):
            if new is None and old is not None and self._read_packed(name) is not None:
                return self._delete_packed(name, old)
            lock = path + ".lock"
            self._create_lock(name, lock, b"" if new is None else new.encode() + b"\n")
            try:
                if self.read(name) != old:
                    return False
                if new is None:
                    os.unlink(path)
                    _unlink(os.path.join(self.common_dir, "logs", *name.split("/")))
                    return True
                # git writes the reflog entry while holding the lock, before the rename.
                self._append_reflog(name, old, new, message)
                os.replace(lock, path)
                return True
            finally:
                _unlink(lock)  # still there when nothing was renamed
                _unlink(self._owner_path(name))

    def _append_reflog(self, name: str, old: Oid | None, new: Oid, message: str) -> None:
        log = os.path.join(self.common_dir, "logs", *name.split("/"))
        fs.make_dirs(os.path.dirname(log), self.shared)
        line = f"{old or self.zero} {new} {signature(self.common_dir)}\t{message.splitlines()[0]}\n"
        created = not os.path.exists(log)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line.encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)
        if created:
            fs.adjust(log, self.shared)

    def _delete_packed(self, name: str, old: Oid) -> bool:
        # Rare (only after `git pack-refs`): let git rewrite packed-refs itself; its
        # `update-ref -d NAME OLD` is a compare-and-delete.
        from gitrun.core.git.cli import run_git

        try:
            run_git(["update-ref", "-d", name, old], git_dir=self.common_dir)
        except GitCommandError:
            return False
        return True

    def _owner_path(self, name: str) -> str:
        return os.path.join(self.flock_dir, name.replace("/", "%") + ".owner")

    def _create_lock(self, name: str, lock: str, content: bytes) -> None:
        """Create ``lock`` holding ``content``; we hold the ref's flock."""
        fs.make_dirs(os.path.dirname(lock), self.shared)
        owner = self._owner_path(name)
        staged = os.path.join(self.flock_dir, name.replace("/", "%") + ".lock-new")
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.001
        while True:
            record = _read_loose(owner)
            if record and _identifies(lock, record):
                # Left by a gitrun writer that died holding it: we hold the flock, so
                # its owner is gone (the kernel releases a dead process's flock).
                _unlink(lock)
            _unlink(owner)
            # Stage the lock file beside the flock, record it, then link it into place:
            # a lock file gitrun creates is always identifiable as gitrun's.
            self._create_recorded(staged, os.O_TRUNC, content, owner)
            try:
                os.link(staged, lock)
                _unlink(staged)
                return
            except FileExistsError:
                _unlink(staged)
                _unlink(owner)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                # No hard links here: create the lock directly (a crash before the
                # record is rewritten leaves a lock we will never break: safe).
                _unlink(staged)
                if self._create_lock_directly(lock, owner, content):
                    return
            if time.monotonic() >= deadline:
                raise RefConflict(
                    f"Unable to create '{lock}': File exists. Another git process seems to be running "
                    "in this repository; gitrun never breaks a lock it cannot prove is abandoned. "
                    "If no git process is running, remove the file and try again."
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _create_lock_directly(self, lock: str, owner: str, content: bytes) -> bool:
        try:
            self._create_recorded(lock, os.O_EXCL, content, owner)
        except FileExistsError:
            return False
        return True

    def _create_recorded(self, path: str, flag: int, content: bytes, owner: str) -> None:
        """Create ``path`` holding ``content`` and record its identity in ``owner``."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | flag, 0o666)
        try:
            os.write(fd, content)
        finally:
            os.close(fd)
        fs.adjust(path, self.shared)
        info = os.stat(path)
        _write_small(owner, f"{info.st_dev} {info.st_ino} {info.st_mtime_ns} {info.st_size}\n".encode())

    @contextmanager
    def _flock(self, name: str) -> Iterator[None]:
        fs.make_dirs(self.flock_dir, self.shared)
        path = os.path.join(self.flock_dir, name.replace("/", "%") + ".flock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class GitRefs:
    """Any ref backend git knows (reftable, ...), read and moved through ``git``."""

    def __init__(self, git_dir: str, *, oid_size: int = 20) -> None:
        self.git_dir = git_dir
        self.zero = "0" * (oid_size * 2)

    def _git(
        self, args: list[str], stdin: bytes | None = None, git_dir: str | None = None
    ) -> tuple[int, bytes, bytes]:
        from gitrun.core.git.cli import run_git_status

        return run_git_status(args, git_dir=git_dir or self.git_dir, input_bytes=stdin)

    def read(self, name: str) -> Oid | None:
        code, out, err = self._git(["rev-parse", "-q", "--verify", name])
        if code == 0:
            return Oid(out.decode().strip())
        if code == 1 or not err.strip():
            return None
        raise GitCommandError(["rev-parse", "-q", "--verify", name], code, err.decode("utf-8", "replace"))

    def reflog(self, name: str) -> list[Oid]:
        # Raw entries (no commit walk): they must be readable even when commits are gone.
        code, out, _ = self._git(["reflog", "show", "--format=%H", "--no-walk", name])
        if code != 0:
            code, out, _ = self._git(["log", "-g", "--format=%H", name])
        return [Oid(line) for line in out.decode().split() if line] if code == 0 else []

    def list(self, prefix: str) -> dict[str, Oid]:
        code, out, err = self._git(["for-each-ref", "--format=%(objectname) %(refname)", prefix])
        if code != 0:
            raise GitCommandError(["for-each-ref", prefix], code, err.decode("utf-8", "replace"))
        found: dict[str, Oid] = {}
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            oid, _, ref = line.partition(" ")
            if ref.startswith(prefix):
                found[ref] = Oid(oid)
        return found

    def head(self, git_dir: str) -> tuple[str | None, Oid | None]:
        code, out, _ = self._git(["symbolic-ref", "-q", "HEAD"], git_dir=git_dir)
        branch = out.decode("utf-8", "surrogateescape").strip() if code == 0 else None
        code, out, _ = self._git(["rev-parse", "-q", "--verify", "HEAD"], git_dir=git_dir)
        return branch, Oid(out.decode().strip()) if code == 0 else None

    def compare_and_swap(self, name: str, old: Oid | None, new: Oid | None, message: str = "gitrun") -> bool:
        if new is None:
            if old is None:
                return self.read(name) is None
            command = f"delete {name} {old}\n"
        else:
            command = f"update {name} {new} {old or self.zero}\n"
        args = ["update-ref", "--create-reflog", "-m", message.splitlines()[0], "--stdin"]
        code, _, err = self._git(args, stdin=command.encode())
        if code == 0:
            return True
        text = err.decode("utf-8", "replace")
        lost = ("cannot lock ref", "but expected", "already exists", "unable to resolve reference", "is at ")
        if any(words in text for words in lost):
            return False  # moved, created or locked by another writer: the caller re-reads
        raise GitCommandError(args, code, text)


def _read_loose(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read().strip()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _identifies(lock: str, record: bytes) -> bool:
    """Is ``lock`` the very file a gitrun writer recorded as its own?"""
    try:
        dev, ino, mtime, size = (int(x) for x in record.split())
        info = os.stat(lock)
    except (ValueError, FileNotFoundError):
        return False
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size) == (dev, ino, mtime, size)


def _write_small(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
