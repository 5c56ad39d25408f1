"""The object database of one repository: loose objects, packs, alternates."""

from __future__ import annotations

import itertools
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable

from gitrun.core.git.objects import TYPE_NAMES, Oid, hash_object
from gitrun.core.git.pack import PackFile, list_pack_indexes
from gitrun.errors import CorruptObject, ResourceDoesNotExist

_TYPE_NUMBERS = {name: i + 1 for i, name in enumerate(TYPE_NAMES)}
_CACHE_BYTES = 32 * 1024 * 1024
_tmp_counter = itertools.count()


class ObjectDatabase:
    """Reads and writes git objects under ``objects_dir``.

    Writes are loose objects, written to a temporary file in the fan-out folder and
    renamed into place (git's own protocol), so a reader never sees a partial object.
    """

    def __init__(self, objects_dir: str, algorithm: str = "sha1") -> None:
        self.objects_dir = objects_dir
        self.algorithm = algorithm
        self.oid_size = 32 if algorithm == "sha256" else 20
        self._packs: dict[str, PackFile] = {}
        self._alternates: list[ObjectDatabase] | None = None
        self._cache: OrderedDict[Oid, tuple[bytes, bytes]] = OrderedDict()
        self._cache_size = 0
        self._lock = threading.Lock()
        self._made_dirs: set[str] = set()
        self._known: set[Oid] = set()
        self.write_hooks: list[Callable[[Oid, bytes, bytes], None]] = []
        """Called with ``(oid, kind, data)`` for every object written (even one already
        there): the record store keeps them to write back what a concurrent prune deletes."""
        self.missing_hooks: list[Callable[[Oid], tuple[bytes, bytes] | None]] = []
        """Asked for ``(kind, data)`` of an object that is not found, before giving up (the
        record store writes back an object this process wrote and a prune deleted)."""

    # -- writing -----------------------------------------------------------------

    def write(self, kind: bytes, data: bytes) -> Oid:
        oid, raw = hash_object(kind, data, self.algorithm)
        for hook in self.write_hooks:
            hook(oid, kind, data)
        if oid in self._known:
            return oid
        folder = os.path.join(self.objects_dir, oid[:2])
        path = os.path.join(folder, oid[2:])
        if os.path.exists(path) or (kind == b"blob" and self._in_pack(oid)):
            self._remember_known(oid)
            return oid
        if folder not in self._made_dirs:
            os.makedirs(folder, exist_ok=True)
            self._made_dirs.add(folder)
        tmp = os.path.join(folder, f"tmp_obj_{os.getpid()}_{next(_tmp_counter)}")
        # Created read-only (objects are immutable); level 1 is git's own default for
        # loose objects (core.looseCompression).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, zlib.compress(raw, 1))
        finally:
            os.close(fd)
        os.replace(tmp, path)
        self._remember_known(oid)
        return oid

    def present(self, oid: Oid) -> bool:
        """Whether ``oid`` is on disk now (loose or packed), ignoring every cache: a
        concurrent ``git gc --prune=now`` may have deleted what this process wrote."""
        if os.path.exists(os.path.join(self.objects_dir, oid[:2], oid[2:])):
            return True
        self._refresh_packs()
        raw = bytes.fromhex(oid)
        return any(pack.index.find(raw) is not None for pack in self._pack_list())

    def forget(self, oids: Iterable[Oid]) -> None:
        """Forget having written ``oids`` (and which fan-out folders exist), so that
        writing them again really writes them."""
        with self._lock:
            for oid in oids:
                self._known.discard(oid)
                if self._cache.pop(oid, None) is not None:
                    self._cache_size = sum(len(v[1]) for v in self._cache.values())
            self._made_dirs.clear()

    def _remember_known(self, oid: Oid) -> None:
        # Objects this process wrote or found: writing them again needs no system call.
        if len(self._known) > 200_000:
            self._known.clear()
        self._known.add(oid)

    def _in_pack(self, oid: Oid) -> bool:
        raw = bytes.fromhex(oid)
        return any(pack.index.find(raw) is not None for pack in self._pack_list())

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
        return None

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
                if idx in self._packs or not os.path.exists(idx[:-4] + ".pack"):
                    continue
                try:
                    self._packs[idx] = PackFile(idx, self.oid_size)
                    changed = True
                except (OSError, ValueError):
                    continue  # being written or removed by git right now
            # Mapped packs stay readable after `git gc` unlinks them; drop them anyway.
            for gone in set(self._packs) - set(indexes):
                self._packs.pop(gone).close()
                changed = True
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
