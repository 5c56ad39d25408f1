"""The write-ahead journal that makes logging survive SIGKILL.

Each writing process appends every logged change to its own journal file, a
memory-mapped file in ``<git dir>/gitrun/journal/``.  Appending is a memory copy
(~0.3 µs), yet the bytes live in the kernel's page cache, so they survive the
process being killed at any instruction.  Records are framed as
``<u32 length><u8 type><payload>``; the length is written last, so a record
interrupted half-way is invisible (length still 0).

Space is reserved on disk (``posix_fallocate``) before a page is mapped: writing to
a mapped page the file system has no room for kills the process with ``SIGBUS``,
while a reservation that fails is an ordinary error (:class:`~gitrun.errors.NoSpace`)
the caller can catch, with nothing already returned lost.

The process holds an exclusive ``flock`` on its journal for its whole life.  A
journal whose lock can be taken belongs to a dead process: :mod:`recovery`
replays it into git.  Reading never trusts the file: a damaged header, a record
that is not JSON or a point of the wrong size is reported (:class:`Damage`) and
the rest is still read.

Power loss is not covered (nothing is fsynced on the hot path); see the docs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import mmap
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitrun.errors import storage_error

MAGIC = b"GRJ1"
HEADER = struct.Struct("<4sIQI8s")  # magic, version, flushed offset, pid, writer id
HEADER_SIZE = 64
FLUSHED_AT = 8

RUN = 1  # JSON: {"run": id, "owned": bool, "create": {...} | None, "base": tree | None, "t": ns}
PARAMS = 2  # JSON: {"run": id, "params": {...}, "t": ns}
TAGS = 3  # JSON: {"run": id, "set": {...}, "delete": [...], "t": ns}
INFO = 4  # JSON: {"run": id, "info": {...}, "t": ns}
CHUNK = 5  # JSON: {"h": handle, "run": id, "key": key, "chunk": name, "at": points before this journal}
POINT = 6  # binary: handle, step, timestamp, value
FILES = 7  # JSON: {"run": id, "files": {name: [mode, oid] | None}, "t": ns}
MAP = 8  # JSON: {"run": id, "file": name, "set": {...}, "delete": [...], "t": ns}

_POINT = struct.Struct("<BIqqd")
_LEN = struct.Struct("<I")
POINT_SIZE = 4 + _POINT.size
_INITIAL_SIZE = 1 << 20
_MAX_RECORD = 1 << 30

_UNSUPPORTED = frozenset({errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS})


def _reserve_file(fd: int, start: int, size: int, path: str) -> None:
    """Make bytes ``start..size`` of the file real blocks (not a sparse hole) or raise."""
    try:
        try:
            os.posix_fallocate(fd, start, size - start)
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
            # A file system without fallocate: writing zeros allocates just as well.
            zeros = bytes(1 << 20)
            for pos in range(start, size, len(zeros)):
                os.pwrite(fd, zeros[: size - pos], pos)
        os.ftruncate(fd, size)
    except OSError as exc:
        raise storage_error(exc, f"reserve space for its journal {path}") from exc


class Journal:
    """An append-only journal owned (flock'ed) by this process."""

    def __init__(self, path: str, writer_id: str) -> None:
        self.path = path
        self.writer_id = writer_id
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Lock under a temporary name, then publish: recovery must never find a
            # journal whose owner is alive but has not locked it yet.
            tmp = path + ".new"
            self._fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise storage_error(exc, f"create its journal in {os.path.dirname(path)}") from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _reserve_file(self._fd, 0, _INITIAL_SIZE, path)
            self._size = _INITIAL_SIZE
            self._map = mmap.mmap(self._fd, self._size)
            HEADER.pack_into(self._map, 0, MAGIC, 1, HEADER_SIZE, os.getpid(), writer_id.encode()[:8])
            os.rename(tmp, path)
        except BaseException as exc:
            os.close(self._fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise storage_error(exc, f"create its journal {path}") from exc
            raise
        self.offset = HEADER_SIZE
        self._dropped = HEADER_SIZE

    def append_json(self, kind: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":"), allow_nan=True).encode()
        size = 1 + len(data)
        self._reserve(4 + size)
        off = self.offset
        self._map[off + 4 : off + 5] = bytes((kind,))
        self._map[off + 5 : off + 4 + size] = data
        _LEN.pack_into(self._map, off, size)
        self.offset = off + 4 + size

    def append_point(self, handle: int, step: int, timestamp: int, value: float) -> None:
        off = self.offset
        if off + POINT_SIZE > self._size:
            self._reserve(POINT_SIZE)
        _POINT.pack_into(self._map, off + 4, POINT, handle, step, timestamp, value)
        _LEN.pack_into(self._map, off, _POINT.size)
        self.offset = off + POINT_SIZE

    def append_points(
        self, handles: Sequence[int], steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]
    ) -> None:
        """Many points, given as columns, packed by one struct call."""
        count = len(handles)
        size = count * POINT_SIZE
        self._reserve(size)
        off = self.offset
        flat: list[int | float] = [_POINT.size, POINT] * (3 * count)
        flat[2::6] = handles
        flat[3::6] = steps
        flat[4::6] = timestamps
        flat[5::6] = values
        # The first length is written last: until then the whole batch is invisible, so
        # a batch interrupted half-way (before log_batch returned) is never replayed.
        flat[0] = 0
        _points_struct(count).pack_into(self._map, off, *flat)
        _LEN.pack_into(self._map, off, _POINT.size)
        self.offset = off + size

    def _reserve(self, needed: int) -> None:
        if self.offset + needed <= self._size:
            return
        size = self._size
        while self.offset + needed > size:
            size *= 2
        # Blocks first, mapping second: a full disk is an error here, never a SIGBUS later.
        _reserve_file(self._fd, self._size, size, self.path)
        self._map.resize(size)
        self._size = size

    @property
    def size(self) -> int:
        """Bytes reserved for the file."""
        return self._size

    def mark_flushed(self, offset: int) -> None:
        """Everything before ``offset`` is in git (records other than points)."""
        struct.pack_into("<Q", self._map, FLUSHED_AT, offset)
        # Committed pages need not stay resident: drop them from this process.
        page = mmap.PAGESIZE
        start = (self._dropped + page - 1) // page * page
        end = offset // page * page
        if end > start:
            self._map.madvise(mmap.MADV_DONTNEED, start, end - start)
            self._dropped = end

    def close(self, delete: bool) -> None:
        self._map.close()
        if delete:
            os.unlink(self.path)
        os.close(self._fd)

    def abandon_after_fork(self) -> None:
        """In a forked child: forget the parent's journal without touching it."""
        try:
            self._map.close()
        finally:
            os.close(self._fd)


_POINTS_CACHE: dict[int, struct.Struct] = {}


def _points_struct(count: int) -> struct.Struct:
    packer = _POINTS_CACHE.get(count)
    if packer is None:
        packer = struct.Struct("<" + "IBIqqd" * count)
        if len(_POINTS_CACHE) < 64:
            _POINTS_CACHE[count] = packer
    return packer


@dataclass
class Damage:
    """What a reader could not use in a journal (the rest was read)."""

    reasons: list[str] = field(default_factory=list)
    skipped: int = 0
    """Records skipped (framing intact, contents unusable)."""

    def add(self, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < 5:
            self.reasons.append(reason)

    def __bool__(self) -> bool:
        return bool(self.reasons)


@dataclass
class JournalContents:
    """A journal as read back: ``records`` are ``(offset, type, payload)``."""

    writer_id: str
    flushed: int
    records: list[tuple[int, int, Any]]
    damage: Damage


def read_records(path: str) -> JournalContents:
    """Read a journal, whatever state it is in.

    A file too short for its header or with a bad header yields no records and a
    :class:`Damage` saying why; a record that is not JSON (or a point of the wrong
    size, or of an unknown type) is skipped and reported; a record cut off by the end
    of the file, or a zero length, ends the journal (what a kill leaves behind).
    """
    with open(path, "rb") as fh:
        data = fh.read()
    damage = Damage()
    if len(data) < HEADER_SIZE:
        damage.add(f"{len(data)} bytes, shorter than a journal header")
        return JournalContents("", HEADER_SIZE, [], damage)
    magic, _version, flushed, _pid, writer = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        state = "zero-filled" if not any(data[:HEADER_SIZE]) else "not a gitrun journal header"
        damage.add(f"the header is {state}")
        return JournalContents("", HEADER_SIZE, [], damage)
    if not HEADER_SIZE <= flushed <= len(data):
        damage.add(f"its flushed mark {flushed} is out of range")
        flushed = HEADER_SIZE  # replay everything: replay is idempotent
    records: list[tuple[int, int, Any]] = []
    off = HEADER_SIZE
    end = len(data)
    while off + 5 <= end:
        (size,) = _LEN.unpack_from(data, off)
        if size == 0 or size > _MAX_RECORD or off + 4 + size > end:
            break
        kind = data[off + 4]
        if kind == POINT:
            if size != _POINT.size:
                damage.add(f"a point of {size} bytes at offset {off}")
            else:
                _, handle, step, ts, value = _POINT.unpack_from(data, off + 4)
                records.append((off, kind, (handle, step, ts, value)))
        elif RUN <= kind <= MAP:
            try:
                payload = json.loads(data[off + 5 : off + 4 + size])
            except (ValueError, RecursionError):
                payload = None
            if isinstance(payload, dict):
                records.append((off, kind, payload))
            else:
                damage.add(f"a record that is not a JSON object at offset {off}")
        else:
            damage.add(f"a record of unknown type {kind} at offset {off}")
        off += 4 + size
    try:
        writer_id = writer.decode().rstrip("\0")
    except UnicodeDecodeError:
        writer_id = ""
    return JournalContents(writer_id, flushed, records, damage)


def iter_journal_paths(folder: str) -> Iterator[str]:
    """The journal files (live or dead) in ``folder``, oldest name first."""
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return
    for name in names:
        if name.endswith(".jnl"):
            yield os.path.join(folder, name)


def owner_gone(path: str) -> bool:
    """Whether the process that created the journal (its header's pid) no longer exists."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(HEADER_SIZE)
        magic, _version, _flushed, pid, _writer = HEADER.unpack_from(header, 0)
    except (OSError, struct.error):
        return False
    if magic != MAGIC or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def try_lock_dead(path: str) -> int | None:
    """An fd holding the journal's lock if its owner is dead, else None."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None  # gone, or a read-only repository: nothing can be recovered here now
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    # The file may have been recovered and deleted between open and lock.
    try:
        same = os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        same = False
    if not same:
        os.close(fd)
        return None
    return fd
