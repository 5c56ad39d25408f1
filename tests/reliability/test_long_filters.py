"""A filter beyond SQLite's limits is the user's error: a clear message, and the index
(never corrupt) is kept, not rebuilt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import gitrun
from gitrun.errors import InvalidParameterValue
from tests.reliability.conftest import cli


@pytest.mark.parametrize(
    "clauses",
    [
        ["metrics.m1 > 0"] * 120,  # 120 joins: SQLite allows 64
        [f"params.p{i} = 'x'" for i in range(2000)],  # beyond 200 FROM terms
    ],
)
def test_a_filter_too_long_for_sqlite_is_refused_and_the_index_kept(
    in_repo: Path, clauses: list[str]
) -> None:
    with gitrun.start_run():
        gitrun.log_metric("m1", 1.0)
    assert len(gitrun.search_runs(filter_string="metrics.m1 > 0", output_format="list")) == 1
    index = in_repo / ".git" / "gitrun" / "index.sqlite"
    before = os.stat(index)
    with pytest.raises(InvalidParameterValue, match="too complex for the index"):
        gitrun.search_runs(filter_string=" and ".join(clauses))
    after = os.stat(index)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rebuilt
    assert len(gitrun.search_runs(filter_string="metrics.m1 > 0", output_format="list")) == 1
    shown = cli(in_repo, "runs", "ls", "--filter", " and ".join(clauses))
    assert shown.returncode == 1
    assert b"too complex for the index" in shown.stderr and b"unexpected" not in shown.stderr
    assert os.stat(index).st_ino == before.st_ino
