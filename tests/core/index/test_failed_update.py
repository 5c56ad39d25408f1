"""An index update that fails leaves the index as it was, usable and unlocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun import MlflowClient
from gitrun.core.git.objects import MODE_TREE, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.index.index import RunIndex
from gitrun.core.index.query import RunSearch
from gitrun.core.records import layout
from gitrun.core.records.store import RecordStore
from gitrun.errors import GitrunError


def run_ids(index: RunIndex) -> set[str]:
    return {r.run_id for r in index.search_runs(RunSearch(("0",), view="all"), 1000).items}


def test_an_update_failing_midway_is_rolled_back_and_the_next_one_is_incremental(
    in_repo: Path, tmp_path: Path
) -> None:
    client = MlflowClient()
    first = {client.create_run("0").info.run_id for _ in range(3)}
    client.flush()
    repo = Repository.at(str(in_repo))
    assert repo is not None
    store = RecordStore(repo)
    path = str(tmp_path / "index.sqlite")
    index = RunIndex(store, path)
    built = index.update()
    assert built is not None and built.full
    # The records ref points at a commit whose runs/ tree cannot be read (pruned,
    # damaged): the update fails inside its transaction.  (A missing tip *commit* is
    # stepped back from through the reflog; a missing tree below it is not.)
    good = store.tip()
    assert good is not None
    head = repo.read_commit(good)
    entries = dict(repo.read_tree(head.tree))
    entries[layout.RUNS_DIR] = TreeEntry(layout.RUNS_DIR, MODE_TREE, Oid("f" * 40))
    damaged = repo.write_commit(
        Commit(repo.write_tree(entries), (good,), head.author, head.committer, "damaged")
    )
    assert repo.refs.compare_and_swap(layout.RECORDS_REF, good, damaged)
    with pytest.raises(GitrunError):
        index.update()
    assert repo.refs.compare_and_swap(layout.RECORDS_REF, damaged, good)
    later = client.create_run("0").info.run_id
    client.flush()
    # This index carries on where it was (one new run, no rebuild), and another
    # process (connection) is not locked out.
    stats = index.update()
    assert stats is not None and not stats.full and stats.runs_written == 1
    assert run_ids(index) == {*first, later}
    assert run_ids(RunIndex(RecordStore(repo), path)) == {*first, later}
