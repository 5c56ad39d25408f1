"""The write-ahead journal that makes logging survive SIGKILL.

Each writing process appends every logged change to its own journal file, a
memory-mapped file in ``<git dir>/gitrun/journal/``.  Appending is a memory copy
(~0.3 µs), yet the bytes live in the kernel's page cache, so they survive the
process being killed at any instruction.  Records are framed as
``<u32 length><u8 type><payload>``; the length is written last, so a record
interrupted half-way is invisible (length still 0).

The process holds an exclusive ``flock`` on its journal for its whole life.  A
journal whose lock can be taken belongs to a dead process: :mod:`recovery`
replays it into git.

Power loss is not covered (nothing is fsynced on the hot path); see the docs.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import struct
from collections.abc import Iterator, Sequence
from typing import Any

MAGIC = b"GRJ1"
HEADER = struct.Struct("<4sIQI8s")  # magic, version, flushed offset, pid, writer id
HEADER_SIZE = 64
FLUSHED_AT = 8

RUN = 1  # JSON: {"run": id, "owned": bool, "create": {...} | None}
PARAMS = 2  # JSON: {"run": id, "params": {...}}
TAGS = 3  # JSON: {"run": id, "set": {...}, "delete": [...]}
INFO = 4  # JSON: {"run": id, "info": {...}}
CHUNK = 5  # JSON: {"h": handle, "run": id, "key": key, "chunk": name}
POINT = 6  # binary: handle, step, timestamp, value
FILES = 7  # JSON: {"run": id, "files": {name: [mode, oid] | None}}
MAP = 8  # JSON: {"run": id, "file": name, "set": {...}, "delete": [...]}

_POINT = struct.Struct("<BIqqd")
_LEN = struct.Struct("<I")
POINT_SIZE = 4 + _POINT.size
_INITIAL_SIZE = 1 << 20


class Journal:
    """An append-only journal owned (flock'ed) by this process."""

    def __init__(self, path: str, writer_id: str) -> None:
        self.path = path
        self.writer_id = writer_id
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Lock under a temporary name, then publish: recovery must never find a
        # journal whose owner is alive but has not locked it yet.
        tmp = path + ".new"
        self._fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(self._fd, _INITIAL_SIZE)
        self._size = _INITIAL_SIZE
        self._map = mmap.mmap(self._fd, self._size)
        HEADER.pack_into(self._map, 0, MAGIC, 1, HEADER_SIZE, os.getpid(), writer_id.encode()[:8])
        os.rename(tmp, path)
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
        os.ftruncate(self._fd, size)
        self._map.resize(size)
        self._size = size

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


def read_records(path: str) -> tuple[str, int, Iterator[tuple[int, int, Any]]]:
    """``(writer id, flushed offset, records)``; records are (offset, type, payload)."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic, _version, flushed, _pid, writer = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ValueError(f"{path} is not a gitrun journal")

    def records() -> Iterator[tuple[int, int, Any]]:
        off = HEADER_SIZE
        end = len(data)
        while off + 5 <= end:
            (size,) = _LEN.unpack_from(data, off)
            if size == 0 or off + 4 + size > end:
                return
            kind = data[off + 4]
            if kind == POINT:
                _, handle, step, ts, value = _POINT.unpack_from(data, off + 4)
                yield off, kind, (handle, step, ts, value)
            else:
                yield off, kind, json.loads(data[off + 5 : off + 4 + size])
            off += 4 + size

    return writer.decode().rstrip("\0"), flushed, records()


def try_lock_dead(path: str) -> int | None:
    """An fd holding the journal's lock if its owner is dead, else None."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
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
