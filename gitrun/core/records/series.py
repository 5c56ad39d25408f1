"""Metric series chunks: the text format of ``metrics/<key>/<chunk>`` blobs.

A series is split into chunks of at most ``CHUNK_POINTS`` points.  Only the last
chunk a writer is filling is ever rewritten, so flushing costs what was added since
the last flush, not the whole series.  A chunk is readable YAML (its fields are
space-separated columns) and parses quickly without a YAML parser::

    format: gitrun-series/1
    key: train/loss
    count: 3
    step: 0 1 2
    timestamp: 1732000000000 1732000000100 1732000000200
    value: 0.5 0.25 nan

Values use Python's ``repr`` (exact round trip, ``nan``/``inf``/``-inf``).
Chunk names are ``<creation time ns, hex>-<writer id>``: sorting the names gives the
order in which writers started them.
"""

from __future__ import annotations

from array import array

from gitrun.core.records.yamlfmt import scalar
from gitrun.errors import InvalidRecord

FORMAT = "gitrun-series/1"
CHUNK_POINTS = 5000


def encode_chunk(key: str, steps: array[int], timestamps: array[int], values: array[float]) -> bytes:
    return (
        f"format: {FORMAT}\nkey: {scalar(key)}\ncount: {len(values)}\n"
        f"step: {' '.join(map(str, steps))}\n"
        f"timestamp: {' '.join(map(str, timestamps))}\n"
        f"value: {' '.join(map(repr, values))}\n"
    ).encode()


def decode_chunk(data: bytes, where: str) -> tuple[array[int], array[int], array[float]]:
    """Return ``(steps, timestamps, values)`` of one chunk."""
    try:
        lines = data.decode().split("\n")
        if lines[0] != f"format: {FORMAT}":
            raise ValueError(f"unknown series format {lines[0]!r}")
        count = int(lines[2].partition(": ")[2])
        steps = array("q", map(int, lines[3][6:].split()))
        timestamps = array("q", map(int, lines[4][11:].split()))
        values = array("d", map(float, lines[5][7:].split()))
    except (ValueError, IndexError) as exc:
        raise InvalidRecord(f"metric series chunk {where} is malformed: {exc}") from None
    if not len(steps) == len(timestamps) == len(values) == count:
        raise InvalidRecord(f"metric series chunk {where} has columns of different lengths")
    return steps, timestamps, values
