"""Reading objects out of git pack files (index v1 and v2, ofs/ref deltas).

Only reading: gitrun writes loose objects and lets ``git gc`` pack them.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Callable

from gitrun.errors import CorruptObject

OBJ_OFS_DELTA = 6
OBJ_REF_DELTA = 7

_IDX_MAGIC = b"\377tOc"


class PackIndex:
    """A ``pack-*.idx`` mapped read-only: version 2 (git's default) or version 1
    (``pack.indexVersion=1``, and packs made by very old gits)."""

    def __init__(self, path: str, oid_size: int) -> None:
        self.path = path
        self.oid_size = oid_size
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[:4] == _IDX_MAGIC:
            version = struct.unpack(">I", self._map[4:8])[0]
            if version != 2:
                self._map.close()
                raise CorruptObject(f"unsupported pack index version {version}: {path}")
            self.version = 2
            fanout_at = 8
        else:
            self.version = 1  # no header: the fan-out table comes first
            fanout_at = 0
        self._fanout = struct.unpack(">256I", self._map[fanout_at : fanout_at + 1024])
        self.count = self._fanout[255]
        entries = fanout_at + 1024
        if self.version == 2:
            self._names, self._stride, self._name_at = entries, oid_size, 0
            self._crcs = self._names + self.count * oid_size
            self._offsets = self._crcs + self.count * 4
            self._large = self._offsets + self.count * 4
        else:
            # Entries are (4-byte offset, object id) pairs.
            self._names, self._stride, self._name_at = entries, 4 + oid_size, 4
            self._offsets = self._large = 0
        if len(self._map) < self._names + self.count * self._stride:
            self._map.close()
            raise CorruptObject(f"truncated pack index: {path}")

    def find(self, oid: bytes) -> int | None:
        """Offset of ``oid`` in the pack, or None."""
        first = oid[0]
        lo = self._fanout[first - 1] if first else 0
        hi = self._fanout[first]
        size = self.oid_size
        names = self._names + self._name_at
        stride = self._stride
        data = self._map
        while lo < hi:
            mid = (lo + hi) // 2
            start = names + mid * stride
            probe = data[start : start + size]
            if probe < oid:
                lo = mid + 1
            elif probe > oid:
                hi = mid
            else:
                return self._offset(mid)
        return None

    def _offset(self, index: int) -> int:
        if self.version == 1:
            pos = self._names + index * self._stride
            return int(struct.unpack(">I", self._map[pos : pos + 4])[0])
        pos = self._offsets + index * 4
        (value,) = struct.unpack(">I", self._map[pos : pos + 4])
        if value & 0x80000000:
            pos = self._large + (value & 0x7FFFFFFF) * 8
            (value,) = struct.unpack(">Q", self._map[pos : pos + 8])
        return int(value)

    def close(self) -> None:
        self._map.close()


class PackFile:
    """A pack and its index; resolves delta chains on read."""

    def __init__(self, idx_path: str, oid_size: int) -> None:
        self.index = PackIndex(idx_path, oid_size)
        pack_path = idx_path[: -len(".idx")] + ".pack"
        with open(pack_path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.path = pack_path
        self.oid_size = oid_size

    def read(self, oid: bytes, resolve_ref: Callable[[bytes], tuple[int, bytes]]) -> tuple[int, bytes] | None:
        """Return ``(type number, data)`` for ``oid``, or None when absent."""
        offset = self.index.find(oid)
        if offset is None:
            return None
        try:
            return self._read_at(offset, resolve_ref)
        except CorruptObject as exc:
            raise CorruptObject(
                f"git object {oid.hex()} in {self.path} (offset {offset}): {exc.message}"
            ) from None
        except (zlib.error, IndexError, ValueError, struct.error) as exc:
            # A damaged pack: say which object and which pack, not a bare zlib message.
            raise CorruptObject(
                f"git object {oid.hex()} in {self.path} (offset {offset}) is damaged: {exc}; "
                "`git fsck` tells more, a clone or `git fetch` from another copy repairs it"
            ) from None

    def _read_at(self, offset: int, resolve_ref: Callable[[bytes], tuple[int, bytes]]) -> tuple[int, bytes]:
        # Iterative: collect the delta chain down to its base, then apply upward.
        deltas: list[bytes] = []
        while True:
            kind, size, pos = self._header(offset)
            if kind == OBJ_OFS_DELTA:
                rel, pos = self._ofs(pos)
                deltas.append(self._inflate(pos, size))
                offset -= rel
                continue
            if kind == OBJ_REF_DELTA:
                base_oid = bytes(self._map[pos : pos + self.oid_size])
                deltas.append(self._inflate(pos + self.oid_size, size))
                base_kind, data = resolve_ref(base_oid)
                break
            base_kind, data = kind, self._inflate(pos, size)
            break
        for delta in reversed(deltas):
            data = apply_delta(data, delta)
        return base_kind, data

    def _header(self, offset: int) -> tuple[int, int, int]:
        data = self._map
        byte = data[offset]
        kind = (byte >> 4) & 7
        size = byte & 15
        shift = 4
        pos = offset + 1
        while byte & 0x80:
            byte = data[pos]
            size |= (byte & 0x7F) << shift
            shift += 7
            pos += 1
        return kind, size, pos

    def _ofs(self, pos: int) -> tuple[int, int]:
        data = self._map
        byte = data[pos]
        value = byte & 0x7F
        pos += 1
        while byte & 0x80:
            byte = data[pos]
            value = ((value + 1) << 7) | (byte & 0x7F)
            pos += 1
        return value, pos

    def _inflate(self, pos: int, size: int) -> bytes:
        inflater = zlib.decompressobj()
        # Compressed data is rarely larger than the output plus a small margin.
        window = size + 64
        out = inflater.decompress(self._map[pos : pos + window], size)
        while len(out) < size and not inflater.eof:
            pos += window
            chunk = self._map[pos : pos + window]
            if not chunk:
                break
            out += inflater.decompress(inflater.unconsumed_tail + chunk, size - len(out))
        if len(out) != size:
            raise CorruptObject(f"truncated object in pack {self.path}")
        return out

    def close(self) -> None:
        self._map.close()
        self.index.close()


def apply_delta(base: bytes, delta: bytes) -> bytes:
    """Apply a git delta (copy/insert instructions) to ``base``."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = delta[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    if varint() != len(base):
        raise CorruptObject("git delta does not match its base object size")
    target_size = varint()
    out = bytearray()
    end = len(delta)
    while pos < end:
        op = delta[pos]
        pos += 1
        if op & 0x80:
            offset = size = 0
            for bit, shift in ((1, 0), (2, 8), (4, 16), (8, 24)):
                if op & bit:
                    offset |= delta[pos] << shift
                    pos += 1
            for bit, shift in ((16, 0), (32, 8), (64, 16)):
                if op & bit:
                    size |= delta[pos] << shift
                    pos += 1
            out += base[offset : offset + (size or 0x10000)]
        elif op:
            out += delta[pos : pos + op]
            pos += op
        else:
            raise CorruptObject("git delta has a reserved zero instruction")
    if len(out) != target_size:
        raise CorruptObject("git delta produced the wrong size")
    return bytes(out)


def list_pack_indexes(pack_dir: str) -> list[str]:
    try:
        names = os.listdir(pack_dir)
    except FileNotFoundError:
        return []
    return sorted(os.path.join(pack_dir, n) for n in names if n.endswith(".idx"))
