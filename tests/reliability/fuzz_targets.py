"""What the fuzzers call: each target accepts anything and may raise only gitrun's own
errors (used by test_fuzz.py with hypothesis and by bench/fuzz_records.py with atheris)."""

from __future__ import annotations

from gitrun.core.artifacts.manifest import Manifest
from gitrun.core.index import rows
from gitrun.core.index.grammar import parse_experiment_filter, parse_filter, parse_order_by
from gitrun.core.records import journal as jnl
from gitrun.core.records import series, values, yamlfmt
from gitrun.errors import GitrunError

READERS = (
    yamlfmt.safe_load,
    yamlfmt.load,
    yamlfmt.load_flat,
    yamlfmt.load_latest,
    yamlfmt.load_top_scalars,
    yamlfmt.load_mapping,
)


def parse_filters(text: str) -> None:
    for parse in (parse_filter, parse_experiment_filter, lambda t: parse_order_by([t])):
        try:
            parse(text)
        except GitrunError:
            pass


def read_record(data: bytes) -> None:
    for reader in READERS:
        try:
            reader(data, "fuzz")
        except GitrunError:
            pass
    try:
        rows.parse_run("a" * 32, dict.fromkeys(values.RECORD_FILES, data))
    except GitrunError:
        pass
    try:
        series.decode_chunk(data, "fuzz")
    except GitrunError:
        pass


def read_manifest(data: bytes) -> None:
    try:
        Manifest.from_bytes(data)
    except GitrunError:
        pass


def journal_bytes(body: bytes, flushed: int = jnl.HEADER_SIZE) -> bytes:
    """A journal file: a valid header, then ``body``."""
    return jnl.HEADER.pack(jnl.MAGIC, 1, flushed, 1, b"fuzzfuzz").ljust(jnl.HEADER_SIZE, b"\0") + body


def read_journal(path: str) -> None:
    contents = jnl.read_records(path)  # never raises, whatever the file holds
    assert isinstance(contents.records, list)
