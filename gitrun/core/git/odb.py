"""The object database of one repository: loose objects, packs, alternates."""

from __future__ import annotations

import itertools
import os
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from gitrun.core.git import fs
from gitrun.core.git.objects import TYPE_NAMES, Oid, hash_object
from gitrun.core.git.pack import PackFile, list_pack_indexes
from gitrun.errors import CorruptObject, ResourceDoesNotExist

_TYPE_NUMBERS = {name: i + 1 for i, name in enumerate(TYPE_NAMES)}
_CACHE_BYTES = 32 * 1024 * 1024
_KNOWN_FOR_SECONDS = 300.0
_tmp_counter = itertools.count()


class ObjectDatabase:
    """Reads and writes git objects under ``objects_dir``.

    Writes are loose objects, written to a temporary file in the fan-out folder and
    renamed into place (git's own protocol), so a reader never sees a partial object.

    Living beside git's maintenance: ``git gc`` removes fan-out folders it emptied
    (they are made again on demand), packs and prunes objects, and ``git repack -ad``
    drops unreachable packed ones.  An object found already present is *freshened*
    (its file, or its pack, gets a new modification time), as git does, so that a
    prune's grace period counts from now; and the memory of objects already written
    is dropped whenever the packs change or it grows old, so a later commit never
    relies on an object maintenance may have removed.
    """

    def __init__(
        self,
        objects_dir: str,
        algorithm: str = "sha1",
        *,
        shared: int = 0,
        git_dir: str | None = None,
        promisor: str | None = None,
    ) -> None:
        self.objects_dir = objects_dir
        self.algorithm = algorithm
        self.oid_size = 32 if algorithm == "sha256" else 20
        self.shared = shared
        self._promisor_git_dir = git_dir if promisor else None
        self._promisor = promisor
        self._packs: dict[str, PackFile] = {}
        self._alternates: list[ObjectDatabase] | None = None
        self._cache: OrderedDict[Oid, tuple[bytes, bytes]] = OrderedDict()
        self._cache_size = 0
        self._lock = threading.Lock()
        self._known: set[Oid] = set()
        self._known_since = time.monotonic()
        self._pack_dir_state: tuple[int, int] | None = None
        self._freshened_packs: set[str] = set()
        self._unreadable_packs: set[str] = set()
        self._tracked = threading.local()
        self.write_hooks: list[Callable[[Oid, bytes, bytes], None]] = []
        """Called with ``(oid, kind, data)`` for every object written (even one already
        there): the record store keeps them to write back what a concurrent prune deletes."""
        self.missing_hooks: list[Callable[[Oid], tuple[bytes, bytes] | None]] = []
        """Asked for ``(kind, data)`` of an object that is not found, before giving up (the
        record store writes back an object this process wrote and a prune deleted)."""

    # -- writing -----------------------------------------------------------------

    @contextmanager
    def tracking(self) -> Iterator[set[Oid]]:
        """Collect the ids of every object this thread writes (or finds present) inside
        the block, to check they all still exist before a ref points at them."""
        stack: list[set[Oid]] = self._tracked.__dict__.setdefault("stack", [])
        written: set[Oid] = set()
        stack.append(written)
        try:
            yield written
        finally:
            stack.pop()

    def write(self, kind: bytes, data: bytes) -> Oid:
        oid, raw = hash_object(kind, data, self.algorithm)
        stack = self._tracked.__dict__.get("stack")
        if stack:
            for written in stack:
                written.add(oid)
        for hook in self.write_hooks:
            hook(oid, kind, data)
        if oid in self._known:
            return oid
        path = os.path.join(self.objects_dir, oid[:2], oid[2:])
        if self._freshen_loose(path) or self._freshen_packed(oid):
            self._remember_known(oid)
            return oid
        self._write_loose(path, raw)
        self._remember_known(oid)
        return oid

    def _write_loose(self, path: str, raw: bytes) -> None:
        folder = os.path.dirname(path)
        tmp = os.path.join(folder, f"tmp_obj_{os.getpid()}_{next(_tmp_counter)}")
        compressed = zlib.compress(raw, 1)  # level 1: git's default for loose objects
        for attempt in range(3):
            try:
                # Created read-only: objects are immutable.
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            except FileNotFoundError:
                # The fan-out folder is missing: never made, or removed by `git gc`
                # (prune-packed deletes the folders it empties) a moment ago.
                if attempt == 2:
                    raise
                fs.make_dirs(folder, self.shared)
                continue
            try:
                os.write(fd, compressed)
            finally:
                os.close(fd)
            fs.adjust(tmp, self.shared)
            try:
                os.replace(tmp, path)
                return
            except FileNotFoundError:
                # The folder went away between the two calls: write it again.
                if attempt == 2:
                    raise
                fs.make_dirs(folder, self.shared)

    def _freshen_loose(self, path: str) -> bool:
        """True if the loose object exists; its modification time becomes now."""
        try:
            os.utime(path)
            return True
        except FileNotFoundError:
            return False
        except PermissionError:
            # Not ours to touch (another user's, in a shared repository): git writes
            # a fresh copy in that case, and so do we.
            return False

    def _freshen_packed(self, oid: Oid) -> bool:
        raw = bytes.fromhex(oid)
        for pack in self._pack_list():
            if pack.index.find(raw) is not None:
                if pack.path not in self._freshened_packs:
                    try:
                        os.utime(pack.path)
                    except OSError:
                        return False
                    self._freshened_packs.add(pack.path)
                return True
        return False

    def present(self, oid: Oid) -> bool:
        """Whether ``oid`` is on disk now (loose, packed or in an alternate), ignoring
        every cache: a concurrent ``git gc --prune=now`` may have deleted what this
        process wrote."""
        return self._present(oid)

    def forget(self, oids: Iterable[Oid]) -> None:
        """Forget having written ``oids``, so that writing them again really writes them."""
        with self._lock:
            for oid in oids:
                self._known.discard(oid)
                if self._cache.pop(oid, None) is not None:
                    self._cache_size = sum(len(v[1]) for v in self._cache.values())

    def _remember_known(self, oid: Oid) -> None:
        # Objects this process wrote or found: writing them again needs no system call.
        if len(self._known) > 200_000:
            self._known.clear()
        self._known.add(oid)

    def revalidate(self) -> None:
        """Forget which objects exist if git's maintenance may have changed that.

        Called before each commit: one ``stat`` of the pack folder.  A changed pack
        folder means a repack or gc ran; and after a few minutes the memory is dropped
        anyway, so that every object a new commit uses was seen (and freshened) recently.
        """
        try:
            info = os.stat(os.path.join(self.objects_dir, "pack"))
            state = (info.st_mtime_ns, info.st_ino)
        except FileNotFoundError:
            state = (0, 0)
        now = time.monotonic()
        if state != self._pack_dir_state or now - self._known_since > _KNOWN_FOR_SECONDS:
            self._pack_dir_state = state
            self._known.clear()
            self._known_since = now
            self._freshened_packs.clear()

    def missing(self, oids: Iterable[Oid]) -> list[Oid]:
        """Those of ``oids`` that are not in the repository right now (no memory used).
        When some are missing, the memory of present objects is dropped as well."""
        gone = [oid for oid in oids if not self._present(oid)]
        if gone:
            self._known.clear()
            for oid in gone:
                self._cache.pop(oid, None)
        return gone

    def _present(self, oid: Oid) -> bool:
        if os.path.exists(os.path.join(self.objects_dir, oid[:2], oid[2:])):
            return True
        raw = bytes.fromhex(oid)
        if any(pack.index.find(raw) is not None for pack in self._pack_list()):
            return True
        if self._refresh_packs() and any(pack.index.find(raw) is not None for pack in self._pack_list()):
            return True
        return os.path.exists(os.path.join(self.objects_dir, oid[:2], oid[2:])) or any(
            alt.contains(oid) for alt in self._alternate_list()
        )

    def write_blob(self, data: bytes) -> Oid:
        return self.write(b"blob", data)

    def contains(self, oid: Oid) -> bool:
        if oid in self._cache:
            return True
        if os.path.exists(os.path.join(self.objects_dir, oid[:2], oid[2:])):
            return True
        raw = bytes.fromhex(oid)
        for pack in self._pack_list():
            if pack.index.find(raw) is not None:
                return True
        if self._refresh_packs():
            return any(p.index.find(raw) is not None for p in self._pack_list())
        return any(alt.contains(oid) for alt in self._alternate_list())

    # -- reading -----------------------------------------------------------------

    def read(self, oid: Oid) -> tuple[bytes, bytes]:
        """Return ``(kind, data)``; raises ResourceDoesNotExist when missing."""
        hit = self._cache.get(oid)
        if hit is not None:
            return hit
        found = self._read_uncached(oid)
        for hook in self.missing_hooks if found is None else ():
            found = hook(oid)
            if found is not None:
                break
        if found is None:
            raise ResourceDoesNotExist(f"git object {oid} is missing from {self.objects_dir}")
        self._remember(oid, found)
        return found

    def read_kind(self, oid: Oid, expected: bytes) -> bytes:
        kind, data = self.read(oid)
        if kind != expected:
            raise CorruptObject(f"git object {oid} is a {kind.decode()}, expected {expected.decode()}")
        return data

    def _read_uncached(self, oid: Oid) -> tuple[bytes, bytes] | None:
        loose = self._read_loose(oid)
        if loose is not None:
            return loose
        raw = bytes.fromhex(oid)
        for attempt in range(2):
            for pack in self._pack_list():
                found = pack.read(raw, self._resolve_raw)
                if found is not None:
                    return TYPE_NAMES[found[0] - 1], found[1]
            # A concurrent `git gc` may have just moved the object into a new pack.
            if attempt == 0 and not self._refresh_packs():
                break
        loose = self._read_loose(oid)
        if loose is not None:
            return loose
        for alt in self._alternate_list():
            try:
                return alt.read(oid)
            except ResourceDoesNotExist:
                continue
        if self._promisor_git_dir is not None or self._unreadable_packs:
            # A partial clone (git fetches what it lacks from its promisor remote), or a
            # pack this reader cannot parse: git itself reads it.
            return self._read_with_git(oid)
        return None

    def _read_with_git(self, oid: Oid) -> tuple[bytes, bytes] | None:
        from gitrun.core.git.cli import run_git_status

        git_dir = self._promisor_git_dir or os.path.dirname(self.objects_dir)
        code, out, _ = run_git_status(
            ["cat-file", "--batch"], git_dir=git_dir, input_bytes=oid.encode() + b"\n"
        )
        header, _, rest = out.partition(b"\n")
        parts = header.split()
        if code != 0 or len(parts) != 3 or parts[1] == b"missing":
            return None
        size = int(parts[2])
        return parts[1], rest[:size]

    def prefetch(self, oids: list[Oid]) -> None:
        """Have git fetch, in one go, the objects a partial clone lacks (no-op otherwise)."""
        if self._promisor_git_dir is None or not oids:
            return
        from gitrun.core.git.cli import run_git_status

        missing = [oid for oid in oids if not self.contains(oid)]
        if not missing:
            return
        # What git's own lazy fetch runs (promisor-remote.c), for many objects at once.
        remote = self._promisor
        if remote:
            run_git_status(
                [
                    "-c",
                    "fetch.negotiationAlgorithm=noop",
                    "fetch",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--recurse-submodules=no",
                    "--filter=blob:none",
                    "--stdin",
                    remote,
                ],
                git_dir=self._promisor_git_dir,
                input_bytes="".join(f"{oid}\n" for oid in missing).encode(),
            )
            self._refresh_packs()

    def _resolve_raw(self, raw: bytes) -> tuple[int, bytes]:
        kind, data = self.read(Oid(raw.hex()))
        return _TYPE_NUMBERS[kind], data

    def _read_loose(self, oid: Oid) -> tuple[bytes, bytes] | None:
        path = os.path.join(self.objects_dir, oid[:2], oid[2:])
        try:
            with open(path, "rb") as fh:
                compressed = fh.read()
        except FileNotFoundError:
            return None
        try:
            raw = zlib.decompress(compressed)
        except zlib.error as exc:
            raise CorruptObject(f"git object {oid} in {path} cannot be decompressed: {exc}") from None
        header, _, data = raw.partition(b"\0")
        kind, _, size = header.partition(b" ")
        if not size.isdigit() or int(size) != len(data):
            raise CorruptObject(f"git object {oid} in {path} has a bad header")
        return kind, data

    def _remember(self, oid: Oid, value: tuple[bytes, bytes]) -> None:
        size = len(value[1])
        if size > _CACHE_BYTES // 8:
            return
        with self._lock:
            self._cache[oid] = value
            self._cache_size += size
            while self._cache_size > _CACHE_BYTES and self._cache:
                _, (_, old) = self._cache.popitem(last=False)
                self._cache_size -= len(old)

    # -- packs and alternates --------------------------------------------------------

    def _pack_list(self) -> list[PackFile]:
        if not self._packs:
            self._refresh_packs()
        return list(self._packs.values())

    def _refresh_packs(self) -> bool:
        """Pick up packs added since the last scan; True if anything changed."""
        with self._lock:
            indexes = list_pack_indexes(os.path.join(self.objects_dir, "pack"))
            changed = False
            for idx in indexes:
                if (
                    idx in self._packs
                    or idx in self._unreadable_packs
                    or not os.path.exists(idx[:-4] + ".pack")
                ):
                    continue
                try:
                    self._packs[idx] = PackFile(idx, self.oid_size)
                    changed = True
                    self._unreadable_packs.discard(idx)
                except (OSError, ValueError):
                    continue  # being written or removed by git right now
                except CorruptObject:
                    self._unreadable_packs.add(idx)  # a format we do not read: git will
            # Mapped packs stay readable after `git gc` unlinks them; drop them anyway.
            for gone in set(self._packs) - set(indexes):
                self._packs.pop(gone).close()
                changed = True
            self._unreadable_packs.intersection_update(indexes)
            return changed

    def _alternate_list(self) -> list[ObjectDatabase]:
        if self._alternates is None:
            alternates: list[ObjectDatabase] = []
            path = os.path.join(self.objects_dir, "info", "alternates")
            try:
                with open(path, encoding="utf-8") as fh:
                    for raw in fh:
                        line = raw.strip()
                        if line and not line.startswith("#"):
                            target = os.path.join(self.objects_dir, line)
                            alternates.append(ObjectDatabase(os.path.normpath(target), self.algorithm))
            except FileNotFoundError:
                pass
            self._alternates = alternates
        return self._alternates
