from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from gitrun.core.artifacts.digest import Digest, hash_bytes, hash_file, hash_stream
from gitrun.core.artifacts.streams import pump
from gitrun.errors import InvalidParameterValue

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_text_form_round_trips() -> None:
    digest = Digest.parse(f"sha256:{EMPTY}")
    assert digest == Digest("sha256", EMPTY)
    assert str(digest) == f"sha256:{EMPTY}"
    assert digest.short() == f"sha256:{EMPTY[:12]}"
    assert hash_bytes(b"") == digest


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (EMPTY, "expected 'sha256:'"),
        (f"sha256:{EMPTY.upper()}", "lowercase hex"),
        (f"sha256:{EMPTY[:-1]}", "64 lowercase hex"),
        (f"sha256:{EMPTY}0", "64 lowercase hex"),
        (f"sha256:{EMPTY[:-1]}g", "64 lowercase hex"),
        (f"md5:{EMPTY}", "unsupported digest algorithm 'md5'"),
        (f"sha256: {EMPTY[1:]}", "64 lowercase hex"),
        ("", "expected 'sha256:'"),
    ],
)
def test_bad_text_is_refused_clearly(text: str, fragment: str) -> None:
    with pytest.raises(InvalidParameterValue, match=fragment):
        Digest.parse(text)


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string"):
        Digest.parse(b"sha256:" + EMPTY.encode())  # type: ignore[arg-type]


def test_digests_sort_and_hash_as_values() -> None:
    a, b = hash_bytes(b"a"), hash_bytes(b"b")
    assert len({a, b, hash_bytes(b"a")}) == 2
    assert sorted([a, b]) == sorted([b, a])


@pytest.mark.parametrize("size", [0, 1, 4 * 2**20 - 1, 4 * 2**20, 4 * 2**20 + 1, 9 * 2**20 + 7])
def test_hash_file_matches_hashlib_across_block_boundaries(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    digest, got = hash_file(path)
    assert got == size
    assert digest == Digest("sha256", hashlib.sha256(data).hexdigest())


def test_pump_keeps_block_order_and_copies_exactly() -> None:
    data = bytes(i % 251 for i in range(100_003))
    hasher = hashlib.sha256()
    out = io.BytesIO()
    progress: list[int] = []
    total = pump(io.BytesIO(data), hasher.update, out, progress.append, block_size=1000)
    assert total == len(data) == sum(progress)
    assert out.getvalue() == data
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_hash_stream_of_short_reads() -> None:
    class Trickle(io.RawIOBase):
        """Returns at most 7 bytes per read, as sockets may."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(min(7, len(buffer)))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = b"x" * 10_000
    assert hash_stream(Trickle(data)) == (hash_bytes(data), len(data))
