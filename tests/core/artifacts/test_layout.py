from __future__ import annotations

import pytest

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import hash_bytes
from gitrun.errors import InvalidParameterValue


def test_object_key_fans_out_on_two_hex_digits() -> None:
    digest = hash_bytes(b"hello")
    key = layout.object_key(digest)
    assert key == f"objects/sha256/{digest.hexdigest[:2]}/{digest.hexdigest[2:]}"
    assert layout.digest_of_key(key) == digest


@pytest.mark.parametrize(
    "key",
    [
        "objects/sha256/ab/.tmp-0123",
        "objects/sha256/ab",
        "objects/md5/ab/cdef",
        "tmp/.tmp-1234",
        "objects/sha256/abc/" + "0" * 61,
        "quarantine/sha256/" + "0" * 64,
    ],
)
def test_non_object_keys_are_not_addresses(key: str) -> None:
    assert layout.digest_of_key(key) is None


def test_temp_keys_sit_beside_their_object_and_are_never_addresses() -> None:
    key = layout.object_key(hash_bytes(b"x"))
    temp = layout.temp_key_beside(key)
    assert temp.rpartition("/")[0] == key.rpartition("/")[0]
    assert layout.digest_of_key(temp) is None
    assert temp != layout.temp_key_beside(key)


def test_quarantine_keys_are_unique_and_outside_objects() -> None:
    digest = hash_bytes(b"x")
    first, second = layout.quarantine_key(digest), layout.quarantine_key(digest)
    assert first != second
    assert first.startswith(f"quarantine/sha256/{digest.hexdigest}.")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a\\b", "a/./b", "a\x00b", ".."])
def test_check_key_refuses_escaping_keys(key: str) -> None:
    with pytest.raises(InvalidParameterValue, match="invalid store key"):
        layout.check_key(key)
