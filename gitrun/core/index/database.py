"""The index file: opening it safely, and throwing it away when it is damaged.

SQLite in WAL mode lets any number of processes read while one writes; writers
take turns with ``BEGIN IMMEDIATE``.  The file is derived data, so when it is
unreadable it is deleted and rebuilt.  Deleting (and creating) happens under an
``flock`` so that two processes never rebuild over each other, and removes the
``-wal``/``-shm`` files with it: a stale write-ahead log replayed onto a fresh
file would corrupt it.  A connection notices when its file was replaced (inode
changed) and reopens, so a process never keeps using an orphaned index.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator

from gitrun.core.index import schema
from gitrun.core.index.grammar import like_to_regex

# A first build at 100k runs takes a while; other processes wait for it rather
# than fail (their searches need the result anyway).
BUSY_TIMEOUT_SECONDS = 600.0
MEMORY = ":memory:"

_BUSY_CODES = frozenset((5, 6))  # SQLITE_BUSY, SQLITE_LOCKED
_UNAVAILABLE_CODES = frozenset((3, 8, 10, 13, 14, 23))  # PERM, READONLY, IOERR, FULL, CANTOPEN, AUTH


# SQLite limits a query can hit (joins, terms, expression depth, pattern size...): the
# query is at fault, not the file.
_QUERY_LIMITS = (
    "too many",
    "at most",
    "too large",
    "too big",
    "too complex",
    "too deep",
    "parser stack overflow",
    "expression tree",
)


def classify(exc: sqlite3.Error) -> str:
    """``"busy"``, ``"unavailable"`` (cannot use the file), ``"query"`` (the query is
    beyond SQLite's limits: the file is fine) or ``"corrupt"`` (rebuild it)."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if (code is None or code & 0xFF in (1, 18)) and any(limit in text for limit in _QUERY_LIMITS):
        return "query"
    if code is not None:
        primary = code & 0xFF
        if primary in _BUSY_CODES:
            return "busy"
        if primary in _UNAVAILABLE_CODES:
            return "unavailable"
        return "corrupt"
    if "locked" in text or "busy" in text:
        return "busy"
    if any(word in text for word in ("readonly", "unable to open", "disk i/o", "full", "permission")):
        return "unavailable"
    return "corrupt"


def _ilike(pattern: str | None, value: str | None) -> bool:
    if pattern is None or value is None:
        return False
    return like_to_regex(pattern, True).match(value) is not None


class IndexDatabase:
    """One connection to the index file of a repository (or to a private in-memory one)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._pid = os.getpid()

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY

    def connection(self) -> sqlite3.Connection:
        """An open connection to the current file, with the current schema."""
        if self._pid != os.getpid():
            # Never use a connection across fork: abandon the parent's.
            self._conn, self._identity, self._pid = None, None, os.getpid()
        if self._conn is not None and not self.in_memory and self._file_identity() != self._identity:
            self.close()  # deleted or replaced by another process
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Held while the file is deleted or created (not while it is used)."""
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _open(self) -> sqlite3.Connection:
        if not self.in_memory and self._file_identity() is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with self._exclusive():
                if self._file_identity() is None:
                    self._remove_files(main=False)
                    return self._connect()
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        # Taken before anything can fail, so that discard() knows which file was bad.
        self._identity = None if self.in_memory else self._file_identity()
        try:
            conn.create_function("gitrun_ilike", 2, _ilike, deterministic=True)
            if not self.in_memory:
                conn.execute("PRAGMA journal_mode=WAL")
                # Derived data: losing the last transaction on power loss is fine (the
                # next update redoes it); WAL + NORMAL still never corrupts the file.
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: the hot part of a 100k-run index
            if not self.in_memory:
                # Page reads straight from the OS page cache, without a read() per page.
                conn.execute("PRAGMA mmap_size=1073741824")
            if schema.version(conn) != schema.SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if schema.version(conn) != schema.SCHEMA_VERSION:
                        schema.drop_all(conn)  # empty, or another schema version
                        schema.create(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except BaseException:
            conn.close()
            raise
        # SQLite may create the file only on first use: take its identity again.
        self._identity = None if self.in_memory else self._file_identity()
        return conn

    def _remove_files(self, *, main: bool) -> None:
        suffixes = ("", "-wal", "-shm", "-journal") if main else ("-wal", "-shm", "-journal")
        for suffix in suffixes:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def discard(self) -> None:
        """Delete the damaged file; the next :meth:`connection` starts a new, empty one.

        Only the file this object found damaged is deleted: when another process
        already replaced it (a new inode), the replacement is kept.
        """
        damaged = self._identity
        self.close()
        if self.in_memory:
            return
        with self._exclusive():
            current = self._file_identity()
            if current is not None and current == damaged:
                self._remove_files(main=True)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
