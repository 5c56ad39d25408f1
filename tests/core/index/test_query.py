"""LIKE patterns run as SQLite GLOB: the same strings match as with MLflow's LIKE."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from gitrun.core.index.grammar import like_to_regex
from gitrun.core.index.query import like_to_glob

_alphabet = st.sampled_from(list("aAbB%_*?[]^-!\\.\n é"))


@settings(max_examples=500)
@given(st.text(_alphabet, max_size=8), st.text(_alphabet, max_size=8))
def test_glob_translation_matches_like_semantics(pattern: str, value: str) -> None:
    conn = sqlite3.connect(":memory:")
    (globbed,) = conn.execute("SELECT ? GLOB ?", (value, like_to_glob(pattern))).fetchone()
    assert bool(globbed) == (like_to_regex(pattern, False).match(value) is not None)


def test_like_is_case_sensitive_as_glob() -> None:
    conn = sqlite3.connect(":memory:")
    assert conn.execute("SELECT 'LR' GLOB ?", (like_to_glob("L%"),)).fetchone() == (1,)
    assert conn.execute("SELECT 'lr' GLOB ?", (like_to_glob("L%"),)).fetchone() == (0,)


def test_default_order_scans_newest_first_when_the_filter_is_unselective() -> None:
    from gitrun.core.index import run_query, schema
    from gitrun.core.index.grammar import parse_filter
    from gitrun.core.index.query import RunSearch

    conn = sqlite3.connect(":memory:")
    schema.create(conn)
    runs = [(i, f"{i:032x}", "t", "0", "n", "FINISHED", "u", "a", "active", i, None) for i in range(1, 101)]
    conn.executemany("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", runs)
    conn.execute("INSERT INTO keys VALUES (1, 'team')")
    conn.executemany(
        "INSERT INTO tags VALUES (?,?,?)", [(i, 1, "red" if i % 50 else "blue") for i in range(1, 101)]
    )
    search = RunSearch(("0",), parse_filter("tags.team = 'red'"))
    # A small page of a common value: walk runs newest first, stop when full.
    scan, _ = run_query.compile_runs(conn, search, {"team": 1}, 3, 0)
    assert "FROM runs r CROSS JOIN tags" in scan
    # A rare value, or a big page: list the matching runs from the (key, value) index.
    rare = RunSearch(("0",), parse_filter("tags.team = 'blue'"))
    assert "FROM tags d" in run_query.compile_runs(conn, rare, {"team": 1}, 3, 0)[0]
    assert "FROM tags d" in run_query.compile_runs(conn, search, {"team": 1}, 1000, 0)[0]
