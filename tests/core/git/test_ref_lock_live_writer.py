"""A ref lock held by a live writer is never broken, however long it is held.

The writer is a real process doing compare-and-swap in a loop; it is frozen with
SIGSTOP at a moment it holds ``<ref>.lock`` (a paused or swapped-out process is
alive).  Another writer must wait (or fail) for as long as the owner lives, past the
5 s after which gitrun treats a lock as stale, and no update may be lost.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from gitrun.core.git.objects import MODE_BLOB, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from tests.conftest import git

REF = "refs/gitrun/contended"
# Longer than the 5 s after which a lock file is assumed abandoned by its owner.
HOLD_SECONDS = 6.5

WRITER = """
import os, sys
from gitrun.core.git.objects import Commit
from gitrun.core.git.repo import Repository
repo = Repository(sys.argv[1])
ref, stop, tree = sys.argv[2], sys.argv[3], sys.argv[4]
sig = "writer <w@example.com> 1700000000 +0000"
print("ready", flush=True)
landed = 0
while not os.path.exists(stop):
    tip = repo.refs.read(ref)
    commit = repo.write_commit(Commit(tree, (tip,) if tip else (), sig, sig, f"a{landed}\\n"))
    landed += repo.refs.compare_and_swap(ref, tip, commit)
print(landed, flush=True)
"""


def _commit(repo: Repository, tree: Oid, parent: Oid | None, msg: str) -> Oid:
    sig = "test <t@example.com> 1700000000 +0000"
    return repo.write_commit(Commit(tree, (parent,) if parent else (), sig, sig, msg))


def _wait_stopped(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        time.sleep(0.001)
    raise AssertionError("the writer did not stop")


def _freeze_while_holding_the_lock(pid: int, lock: Path) -> None:
    """SIGSTOP the writer at a moment it owns ``lock`` (it holds it most of its loop)."""
    rng = random.Random(7)
    for _ in range(3000):
        os.kill(pid, signal.SIGSTOP)
        _wait_stopped(pid)
        if lock.exists():
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(rng.random() * 0.003)
    raise AssertionError("never caught the writer holding the ref lock")


def test_a_live_writers_lock_is_never_broken_and_no_update_is_lost(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "store.git"))
    tree = repo.write_tree([TreeEntry("x", MODE_BLOB, repo.write_blob(b"x"))])
    assert repo.refs.compare_and_swap(REF, None, _commit(repo, tree, None, "root\n"))
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, repo.git_dir, REF, str(stop), tree],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    other_landed: list[bool] = []
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.05)  # let it loop
        _freeze_while_holding_the_lock(writer.pid, Path(repo.common_dir) / (REF + ".lock"))

        def other_writer() -> None:
            tip = repo.refs.read(REF)
            other_landed.append(repo.refs.compare_and_swap(REF, tip, _commit(repo, tree, tip, "b\n")))

        thread = threading.Thread(target=other_writer, daemon=True)
        thread.start()
        thread.join(HOLD_SECONDS)
        waited = thread.is_alive()
    finally:
        os.kill(writer.pid, signal.SIGCONT)
        stop.touch()
        out, err = writer.communicate(timeout=120)
    thread.join(120)
    assert waited, f"another writer got past a live writer's lock (it returned {other_landed})"
    assert writer.returncode == 0, err
    assert not thread.is_alive() and len(other_landed) == 1
    # Every compare-and-swap that reported success is in the history: none was lost.
    landed = int(out.split()[-1]) + int(other_landed[0])
    assert git(repo.git_dir, "rev-list", "--count", REF).strip() == str(1 + landed)
    git(repo.git_dir, "fsck", "--strict", "--no-dangling")
