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
