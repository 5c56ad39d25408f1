"""Records through a real bare remote: push, fetch, concurrent pushers converge."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gitrun.core.git.objects import Commit, Oid
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


def _store(path: Path) -> RecordStore:
    repo = Repository.at(str(path)) or Repository.init_bare(str(path))
    return RecordStore(repo)


def remote_run_ids(remote: Path, scratch: Path) -> set[str]:
    """What a newcomer fetching from ``remote`` sees."""
    store = _store(scratch)
    sync.fetch(store, str(remote))
    return _run_ids(scratch) if store.tip() else set()


def test_push_fetch_and_merge(work_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    a = _clone(remote, tmp_path / "a")
    b = _clone(remote, tmp_path / "b")
    runs_a = _log_runs(a, 3, "a")
    runs_b = _log_runs(b, 2, "b")
    store_a, store_b = _store(a), _store(b)
    heads_before = git(a, "for-each-ref", "refs/heads", "refs/remotes")
    assert sync.push(store_a, "origin").action == "created"
    assert not sync.in_sync(store_b, "origin")
    result = sync.push(store_b, "origin")  # fetches a's runs, merges, then pushes one patch
    assert result.action == "pushed"
    assert sync.in_sync(store_b, "origin")
    assert _run_ids(b) == set(runs_a) | set(runs_b)
    assert sync.fetch(store_a, "origin").action in ("fast-forward", "merged")
    assert _run_ids(a) == set(runs_a) | set(runs_b)
    assert git(a, "for-each-ref", "refs/heads", "refs/remotes") == heads_before
    # Both machines created the Default experiment; their merge (earliest creation
    # time) may need one more push, after which everyone agrees.
    sync.push(store_a, "origin")
    assert sync.push(store_a, "origin").action == "up-to-date"
    assert sync.fetch(store_b, "origin").action in ("fast-forward", "merged", "up-to-date")
    assert sync.push(store_b, "origin").action == "up-to-date"
    git(remote, "fsck", "--strict", "--no-dangling")
    # The remote holds patches, not a copy of the state: each is as small as its push.
    log = git(remote, "rev-list", "--reverse", sync.LOG_REF).split()
    second = git(remote, "ls-tree", "-r", "--name-only", log[1], "runs")
    assert {p.split("/")[4] for p in second.split()} == set(runs_b)
    # A fresh clone gets everything with one fetch.
    assert remote_run_ids(remote, tmp_path / "newcomer.git") == set(runs_a) | set(runs_b)


def test_patches_round_trip(work_repo: Path, tmp_path: Path) -> None:
    runs = _log_runs(work_repo, 2, "x")
    store = _store(work_repo)
    repo = store.repo
    first = repo.read_commit(store.tip()).tree  # type: ignore[arg-type]
    more = _log_runs(work_repo, 1, "y")
    del runs, more
    second = repo.read_commit(store.tip()).tree  # type: ignore[arg-type]
    patch, deleted = sync.diff_patch(repo, first, second)
    assert patch is not None and deleted == []
    assert sync.apply_patch(repo, first, patch) == second
    assert sync.apply_patch(repo, sync.apply_patch(repo, first, patch), patch) == second  # idempotent
    assert sync.diff_patch(repo, second, second) == (None, [])
    back, gone = sync.diff_patch(repo, second, first)
    assert back is not None and len(gone) == 1
    assert sync.apply_patch(repo, second, back) == first


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
    assert remote_run_ids(remote, tmp_path / "newcomer.git") == expected


def _other_state(store: RecordStore, parent: Oid | None) -> Oid:
    """What a concurrent process would write: some commit on the tracking ref."""
    repo = store.repo
    who = "other <o@example.com> 1700000000 +0000"
    tree = repo.read_commit(parent).tree if parent else repo.write_tree({})
    return repo.write_commit(Commit(tree, (parent,) if parent else (), who, who, "concurrent\n"))


def test_push_detects_a_concurrent_move_of_the_tracking_ref(work_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    a = _clone(remote, tmp_path / "a")
    store = _store(a)
    _log_runs(a, 1, "first")
    sync.push(store, "origin")
    _log_runs(a, 1, "second")
    moved: list[Oid] = []

    def concurrent_fetch(local: Oid, state: Oid | None) -> None:
        # Between push's read of the tracking ref and its update, another process moves it.
        moved.append(_other_state(store, state))
        assert store.repo.refs.compare_and_swap(sync.tracking_ref("origin"), state, moved[0])

    result = sync.push(store, "origin", before_push=concurrent_fetch)
    assert result.action == "pushed"
    final = store.repo.refs.read(sync.tracking_ref("origin"))
    assert final is not None and final != moved[0]
    # Detected, not overwritten: the concurrent commit is kept in the rebuilt state's history.
    assert sync.is_ancestor(store.repo, moved[0], final)
    assert sync.in_sync(store, "origin")
    assert (
        store.repo.refs.read(sync.log_tracking_ref("origin"))
        == git(remote, "rev-parse", sync.LOG_REF).strip()
    )


def test_fetch_detects_a_concurrent_move_of_the_tracking_ref(
    work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    a, b = _clone(remote, tmp_path / "a"), _clone(remote, tmp_path / "b")
    runs = _log_runs(a, 1, "one")
    sync.push(_store(a), "origin")
    store_b = _store(b)
    sync.fetch(store_b, "origin")
    runs += _log_runs(a, 1, "two")
    sync.push(_store(a), "origin")
    real_apply = sync.apply_patch
    moved: list[Oid] = []

    def apply_then_move(repo: Repository, state: Oid | None, patch: Oid) -> Oid:
        # A concurrent fetch moves the state ref while this one applies the log.
        if not moved:
            before = repo.refs.read(sync.tracking_ref("origin"))
            moved.append(_other_state(store_b, before))
            assert repo.refs.compare_and_swap(sync.tracking_ref("origin"), before, moved[0])
        return real_apply(repo, state, patch)

    monkeypatch.setattr(sync, "apply_patch", apply_then_move)
    assert sync.fetch(store_b, "origin").action == "fast-forward"
    final = store_b.repo.refs.read(sync.tracking_ref("origin"))
    assert final is not None and final != moved[0]
    assert sync.is_ancestor(store_b.repo, moved[0], final)  # rebuilt on top, not overwritten
    assert _run_ids(b) == set(runs)
