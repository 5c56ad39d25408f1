"""Packs whose deltas name their base by object id (REF_DELTA) read back exactly.

`git gc` writes offset deltas; packs written without delta-base offsets (and thin packs
completed after a fetch) use REF_DELTA entries, a separate path of the pack reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from tests.conftest import git


@pytest.mark.timeout(60)  # a reader looping on a delta fails instead of hanging
def test_ref_delta_objects_read_back_identical(work_repo: Path) -> None:
    for i in range(20):
        (work_repo / "data.txt").write_text("line\n" * 300 + f"change {i}\n" + "tail\n" * 40)
        git(work_repo, "add", "data.txt")
        git(work_repo, "commit", "-q", "-m", f"c{i}")
    blobs = {
        oid: git(work_repo, "cat-file", "-p", oid)
        for oid in git(work_repo, "rev-list", "--objects", "--all").split()
        if len(oid) == 40 and git(work_repo, "cat-file", "-t", oid).strip() == "blob"
    }
    git(work_repo, "-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--depth=10")
    pack = next((work_repo / ".git/objects/pack").glob("*.pack"))
    verify = git(work_repo, "verify-pack", "-v", str(pack.with_suffix(".idx")))
    assert any(len(line.split()) == 7 for line in verify.splitlines())  # deltified entries
    assert not list((work_repo / ".git/objects").glob("[0-9a-f][0-9a-f]/*"))
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    for oid, text in blobs.items():
        assert repo.read_blob(Oid(oid)).decode() == text
