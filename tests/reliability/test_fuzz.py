"""Fuzzing what comes from outside (filters typed by users, records, manifests and
journals written by other machines or damaged on disk): no exception but gitrun's
own, no hang, bounded memory.

Hypothesis here (CI); ``bench/fuzz_records.py`` runs the same targets under atheris
(coverage-guided) on demand.
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitrun.core.artifacts.manifest import MAGIC
from gitrun.core.records import journal as jnl
from gitrun.core.records import yamlfmt
from gitrun.core.records.recovery import recover
from gitrun.core.records.store import RecordStore
from gitrun.core.records.text import replace_surrogates
from gitrun.errors import GitrunError
from tests.reliability.conftest import LONG
from tests.reliability.fuzz_targets import (
    journal_bytes,
    parse_filters,
    read_journal,
    read_manifest,
    read_record,
)

EXAMPLES = 3000 if LONG else 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# Text that looks like what each parser reads, plus anything at all.
FILTER_WORDS = st.sampled_from(
    [
        "metrics.",
        "params.",
        "tags.",
        "attributes.",
        "dataset.",
        "`",
        '"',
        "'",
        " and ",
        " AND ",
        " or ",
        "=",
        "!=",
        "<",
        ">=",
        " LIKE ",
        " ILIKE ",
        " IN ",
        " IS NULL",
        "(",
        ")",
        ",",
        "acc",
        "run_name",
        "status",
        "0.5",
        "-1e9",
        "NaN",
        "\\",
        "%",
        "\udcff",
        "\x00",
    ]
)
FILTERS = st.one_of(st.text(max_size=200), st.lists(FILTER_WORDS, max_size=40).map("".join))


@FUZZ
@given(FILTERS)
def test_filter_parsers_raise_only_gitrun_errors(text: str) -> None:
    parse_filters(text)


YAML_PIECES = st.sampled_from(
    [
        "a: 1\n",
        "- x\n",
        "  ",
        '"\\x41"',
        '"\\udcff"',
        '"\\ud83d"',
        "&a [1]",
        "*a",
        "!!python/object:os.system",
        "!!binary aGk=",
        "? ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        "\n",
        "2020-13-45",
        "0x1g",
        ".nan",
        "step: 1\n  timestamp: 2\n  value: 3.0\n",
        "run_id: abc\n",
        "status: RUNNING\n",
        "\t",
        "%YAML 1.1\n---\n",
        "\x1b",
    ]
)
DOCUMENTS = st.one_of(
    st.binary(max_size=400), st.lists(YAML_PIECES, max_size=30).map(lambda parts: "".join(parts).encode())
)


@FUZZ
@given(DOCUMENTS)
def test_record_readers_raise_only_gitrun_errors(data: bytes) -> None:
    read_record(data)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(),  # any code point, surrogates and control characters included
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _expected(value: object) -> object:
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, dict):
        return {replace_surrogates(str(k)): _expected(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expected(v) for v in value]
    return value


@FUZZ
@given(st.dictionaries(st.text(max_size=10), VALUES, max_size=6))
def test_the_emitter_never_writes_what_its_reader_refuses(data: dict[str, object]) -> None:
    text = yamlfmt.dump(data)
    loaded = yamlfmt.safe_load(text, "fuzz")
    if len({replace_surrogates(k) for k in data}) < len(data):
        return  # two keys that differ only by undecodable text merge once replaced
    assert loaded == (_expected(data) if data else None)
    assert yamlfmt.load(text.encode(), "fuzz") == loaded


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: MAGIC + b)))
def test_manifest_reader_raises_only_gitrun_errors(data: bytes) -> None:
    read_manifest(data)


RECORDS = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.tuples(st.integers(1, 8), st.binary(max_size=60)).map(
            lambda kr: (len(kr[1]) + 1).to_bytes(4, "little") + bytes([kr[0]]) + kr[1]
        ),
        st.sampled_from(
            [
                b'{"run":"r","owned":true,"create":{"info":{"status":"RUNNING"}}}',
                b'{"h":1,"run":"r","key":"m","chunk":"c","at":5}',
                b'{"run":"r","set":{"a":"b"},"delete":["x"],"t":1}',
                b'{"run":"r","info":{"status":5},"t":"x"}',
                b'{"run":"r","file":"artifacts.yaml","set":{"p":{"digest":"sha256:00"}},"delete":[]}',
                b'{"run":["r"]}',
            ]
        ).map(lambda p: (len(p) + 1).to_bytes(4, "little") + bytes([2 + len(p) % 6]) + p),
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=200), RECORDS.map(lambda b: journal_bytes(b, jnl.HEADER_SIZE))))
def test_journal_reader_never_raises(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("jnl") / "x.jnl"
    path.write_bytes(data)
    read_journal(str(path))


@settings(max_examples=EXAMPLES // 5, deadline=None, suppress_health_check=list(HealthCheck))
@given(RECORDS)
def test_recovery_of_any_journal_never_raises(work_repo: Path, body: bytes) -> None:
    from gitrun.core.git.repo import Repository

    repo = Repository.at(str(work_repo))
    assert repo is not None
    folder = Path(repo.gitrun_dir) / "journal"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.urandom(4).hex()}.jnl").write_bytes(journal_bytes(body, jnl.HEADER_SIZE))
    recover(RecordStore(repo))  # never raises, whatever the journal holds
    assert not list(folder.glob("*.jnl"))  # replayed, or moved aside


def test_yaml_bombs_and_huge_documents_are_refused_in_bounded_memory() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    deep = "[" * 100_000 + "]" * 100_000
    big = "a: " + "x" * (yamlfmt.MAX_RECORD_BYTES + 1)
    tracemalloc.start()
    try:
        for document in (laughs, deep):
            with pytest.raises(GitrunError):
                yamlfmt.safe_load(document, "bomb")
            with pytest.raises(GitrunError):
                yamlfmt.load(document.encode(), "bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20
    with pytest.raises(GitrunError, match="too large"):
        yamlfmt.load(big, "big")
