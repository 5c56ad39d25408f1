"""Packs whose deltas name their base by object id (REF_DELTA) read back exactly.

`git gc` writes offset deltas; a pack written without delta-base offsets (as by older
clients, or thin packs completed after a fetch) holds REF_DELTA entries, a separate
path of the pack reader.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from tests.conftest import git


@pytest.mark.timeout(60)  # a reader looping on a delta fails instead of hanging
def test_ref_delta_objects_read_back_identical(tmp_path: Path) -> None:
    bare = tmp_path / "store.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    texts = [("line\n" * 300 + f"version {i}\n" + "tail\n" * 40).encode() for i in range(15)]
    oids = [
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=bare, input=text, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
        for text in texts
    ]
    # One pack of these blobs with REF_DELTA entries (no --delta-base-offset), then the
    # loose copies go: every read below comes from the pack.
    subprocess.run(
        ["git", "pack-objects", "-q", "--window=20", "--depth=10", "objects/pack/pack"],
        cwd=bare,
        input="\n".join(oids).encode() + b"\n",
        capture_output=True,
        check=True,
    )
    git(bare, "prune-packed")
    assert not list((bare / "objects").glob("[0-9a-f][0-9a-f]/*"))
    index = next((bare / "objects/pack").glob("*.idx"))
    stats = git(bare, "verify-pack", "-v", str(index))
    assert sum(len(line.split()) == 7 for line in stats.splitlines()) >= 10  # stored as deltas
    repo = Repository(str(bare))
    for oid, text in zip(oids, texts):
        assert repo.read_blob(Oid(oid)) == text
