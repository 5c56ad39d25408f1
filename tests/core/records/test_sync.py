"""Records through a real bare remote: push, fetch, concurrent pushers converge."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, sync
from gitrun.core.records.store import RecordStore
from tests.conftest import git


def _clone(remote: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(remote), str(dest))
    return dest


def _log_runs(repo: Path, count: int, tag: str) -> list[str]:
    script = textwrap.dedent(f"""
        import gitrun
        ids = []
        for i in range({count}):
            with gitrun.start_run(run_name="{tag}-%d" % i) as run:
                gitrun.log_metric("m", i)
                ids.append(run.info.run_id)
        print(" ".join(ids))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, check=True)
    return out.stdout.split()


def _run_ids(repo: Path, ref: str = layout.RECORDS_REF) -> set[str]:
    listing = git(repo, "ls-tree", "-r", "-d", "--name-only", ref, "runs")
    return {p.rsplit("/", 1)[1] for p in listing.split() if p.count("/") == 4}


def test_push_fetch_and_merge(work_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    a = _clone(remote, tmp_path / "a")
    b = _clone(remote, tmp_path / "b")
    runs_a = _log_runs(a, 3, "a")
    runs_b = _log_runs(b, 2, "b")
    store_a = RecordStore(Repository.discover(str(a)))  # type: ignore[arg-type]
    store_b = RecordStore(Repository.discover(str(b)))  # type: ignore[arg-type]
    heads_before = git(a, "for-each-ref", "refs/heads", "refs/remotes")
    assert sync.push(store_a, "origin").action == "created"
    result = sync.push(store_b, "origin")  # rejected first, then fetch + merge + push
    assert result.action == "pushed"
    assert _run_ids(b) == set(runs_a) | set(runs_b)
    assert sync.fetch(store_a, "origin").action == "fast-forward"
    assert _run_ids(a) == set(runs_a) | set(runs_b)
    assert git(a, "for-each-ref", "refs/heads", "refs/remotes") == heads_before
    assert sync.push(store_a, "origin").action == "up-to-date"
    git(remote, "fsck", "--strict", "--no-dangling")
    # A fresh clone gets everything with one fetch.
    c = _clone(remote, tmp_path / "c")
    store_c = RecordStore(Repository.discover(str(c)))  # type: ignore[arg-type]
    assert sync.fetch(store_c, "origin").action == "fast-forward"
    assert _run_ids(c) == set(runs_a) | set(runs_b)


def test_concurrent_pushers_converge(work_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    clones = [_clone(remote, tmp_path / f"m{i}") for i in range(3)]
    expected: set[str] = set()
    for i, clone in enumerate(clones):
        expected |= set(_log_runs(clone, 4, f"m{i}"))
    script = textwrap.dedent("""
        import sys
        from gitrun.core.git.repo import Repository
        from gitrun.core.records import sync
        from gitrun.core.records.store import RecordStore
        print(sync.push(RecordStore(Repository.discover(sys.argv[1])), "origin").action)
    """)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(c)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for c in clones
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert _run_ids(remote) == expected
