"""Content addresses: the :class:`Digest` value and streaming hashing.

The algorithm is part of every address (``sha256:<64 lowercase hex>``) so that
a later change of algorithm needs no migration of what is already stored.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gitrun.core.artifacts.streams import Readable, pump
from gitrun.errors import InvalidParameterValue

ALGORITHM = "sha256"
"""The algorithm new objects are stored under."""

_HEX_LENGTHS = {"sha256": 64}
_LOWER_HEX = re.compile(r"[0-9a-f]+")


class Hasher(Protocol):
    """The part of a ``hashlib`` hash object we use."""

    def update(self, data: bytes | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


@dataclass(frozen=True, order=True, slots=True)
class Digest:
    """The address of an object: an algorithm and the hash of the bytes.

    ``str(digest)`` is the text form written in records, e.g.
    ``sha256:9f86d0...``; :meth:`parse` reads it back.
    """

    algorithm: str
    hexdigest: str

    def __post_init__(self) -> None:
        length = _HEX_LENGTHS.get(self.algorithm)
        if length is None:
            known = ", ".join(sorted(_HEX_LENGTHS))
            raise InvalidParameterValue(f"unsupported digest algorithm {self.algorithm!r} (known: {known})")
        if len(self.hexdigest) != length or not _LOWER_HEX.fullmatch(self.hexdigest):
            raise InvalidParameterValue(
                f"invalid {self.algorithm} digest {self.hexdigest!r}: expected {length} lowercase hex digits"
            )

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Read the text form ``<algorithm>:<hex>``.

        Raises:
            InvalidParameterValue: ``text`` is not a well-formed digest.
        """
        if not isinstance(text, str):
            raise InvalidParameterValue(f"a digest must be a string, got {text!r}")
        algorithm, sep, hexdigest = text.partition(":")
        if not sep:
            raise InvalidParameterValue(
                f"invalid digest {text!r}: expected '{ALGORITHM}:' followed by "
                f"{_HEX_LENGTHS[ALGORITHM]} lowercase hex digits"
            )
        return cls(algorithm, hexdigest)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"

    def short(self) -> str:
        """An abbreviated form for messages: ``sha256:9f86d081884c``."""
        return f"{self.algorithm}:{self.hexdigest[:12]}"


def new_hasher(algorithm: str = ALGORITHM) -> Hasher:
    """A fresh incremental hasher for ``algorithm``."""
    if algorithm not in _HEX_LENGTHS:
        raise InvalidParameterValue(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def hash_bytes(data: bytes, algorithm: str = ALGORITHM) -> Digest:
    """The digest of ``data``."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return Digest(algorithm, hasher.hexdigest())


def hash_stream(
    src: Readable,
    algorithm: str = ALGORITHM,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Digest, int]:
    """Hash a stream to its end in blocks; return its digest and size."""
    hasher = new_hasher(algorithm)
    size = pump(src, hasher.update, on_progress=on_progress)
    return Digest(algorithm, hasher.hexdigest()), size


def hash_file(
    path: str | os.PathLike[str],
    algorithm: str = ALGORITHM,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Digest, int]:
    """Hash a local file in blocks (never loaded whole); return digest and size."""
    with open(path, "rb", buffering=0) as src:
        return hash_stream(src, algorithm, on_progress)
