"""A reader that checks an object against its address as it streams it.

The last block of the object is held back until the whole object has been
hashed: a caller copying the stream somewhere never receives the complete
content of a corrupt object, and gets :class:`~gitrun.errors.CorruptObject`
instead of end-of-file.
"""

from __future__ import annotations

import io
from typing import Any

from gitrun.core.artifacts.digest import Digest, new_hasher
from gitrun.core.artifacts.streams import BLOCK_SIZE, read_full
from gitrun.errors import CorruptObject


def corrupt_object_error(digest: Digest, store: str, actual: Digest | None = None) -> CorruptObject:
    """The error for an object whose bytes do not match its address."""
    found = f" (its content hashes to {actual})" if actual is not None else ""
    return CorruptObject(
        f"artifact object {digest} in store {store} is corrupt: its content does not match "
        f"its address{found}; run `gitrun fsck` to quarantine it, then fetch it again"
    )


class VerifiedReader(io.RawIOBase):
    """Stream of an object's bytes, verified against ``digest`` at the end."""

    def __init__(
        self,
        raw: io.RawIOBase,
        digest: Digest,
        store: str,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest
        self._store = store
        self._hasher = new_hasher(digest.algorithm)
        self._block = bytearray(block_size)
        self._ready = memoryview(b"")  # verified-safe to hand out
        self._held = b""  # read and hashed, released once the next block is read
        self._eof = False
        self._error: CorruptObject | None = None

    @property
    def digest(self) -> Digest:
        return self._digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._error is not None:
            raise self._error
        while not self._ready and not self._eof:
            self._advance()
        if not self._ready:
            return 0
        out = memoryview(buffer).cast("B")
        count = min(len(out), len(self._ready))
        out[:count] = self._ready[:count]
        self._ready = self._ready[count:]
        return count

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(len(self._block)):
            chunks.append(chunk)
        return b"".join(chunks)

    def _advance(self) -> None:
        view = memoryview(self._block)
        got = read_full(self._raw, view)
        if got:
            chunk = bytes(view[:got])
            self._hasher.update(chunk)
            self._ready, self._held = memoryview(self._held), chunk
            return
        self._eof = True
        actual = Digest(self._digest.algorithm, self._hasher.hexdigest())
        if actual != self._digest:
            self._error = corrupt_object_error(self._digest, self._store, actual)
            self._held = b""
            raise self._error
        self._ready, self._held = memoryview(self._held), b""

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()
