"""Where things live inside a store: the one definition of the key layout.

Keys are relative POSIX paths below the store's root::

    objects/sha256/ab/cdef0123...   an object, fanned out on 2 hex digits
    objects/sha256/ab/.tmp-...      a partial upload (never a valid address)
    tmp/...                         staging files of a local store
    quarantine/sha256/abcdef...     objects that failed verification

A key is an address only if :func:`digest_of_key` accepts it, so partial
uploads sitting next to objects are never mistaken for objects.
"""

from __future__ import annotations

import secrets
import time

from gitrun.core.artifacts.digest import Digest
from gitrun.errors import InvalidParameterValue

OBJECTS = "objects"
STAGING = "tmp"
QUARANTINE = "quarantine"
TEMP_PREFIX = ".tmp-"
_FANOUT = 2


def object_key(digest: Digest) -> str:
    """The key of the object addressed by ``digest``."""
    head, tail = digest.hexdigest[:_FANOUT], digest.hexdigest[_FANOUT:]
    return f"{OBJECTS}/{digest.algorithm}/{head}/{tail}"


def digest_of_key(key: str) -> Digest | None:
    """The digest addressed by ``key``, or None if ``key`` is not an object."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != OBJECTS or len(parts[2]) != _FANOUT:
        return None
    try:
        return Digest(parts[1], parts[2] + parts[3])
    except InvalidParameterValue:
        return None


def temp_key_beside(key: str) -> str:
    """A fresh key in the same folder as ``key``, for upload-then-move."""
    folder, _, _ = key.rpartition("/")
    name = f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    return f"{folder}/{name}" if folder else name


def quarantine_key(digest: Digest) -> str:
    """A fresh key to move a corrupt copy of ``digest`` to."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    suffix = secrets.token_hex(4)
    return f"{QUARANTINE}/{digest.algorithm}/{digest.hexdigest}.{stamp}.{suffix}"


def check_key(key: str) -> str:
    """Refuse keys that could leave the store's root; return ``key``.

    Keys come from this module, so a bad one is a programming error, but
    backends check anyway because a key becomes a path or a URL.
    """
    parts = key.split("/")
    if not key or "\\" in key or "\x00" in key or any(p in ("", ".", "..") for p in parts):
        raise InvalidParameterValue(f"invalid store key {key!r}")
    return key
