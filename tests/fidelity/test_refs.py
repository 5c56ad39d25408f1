"""Refs in every backend: reftable through git (checked by dulwich's independent
reftable reader), files with a reflog, bounded symbolic refs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gitrun.errors import GitrunError, UnsupportedRepository
from tests.conftest import git
from tests.fidelity.conftest import (
    expected_tree,
    files_of,
    new_repo,
    newer_git_path,
    record_run,
    run_code,
)

RECORDS = "refs/gitrun/records"


def _run_ids(repo: Path) -> set[str]:
    listing = git(repo, "ls-tree", "-r", "-d", "--name-only", RECORDS, "runs")
    return {p.rsplit("/", 1)[1] for p in listing.split() if p.count("/") == 4}


def test_reftable_repository(tmp_path: Path, newer_git: str) -> None:
    repo = new_repo(tmp_path / "rt", "--ref-format=reftable", "-b", "main")
    (repo / "train.py").write_text("print('changed')\n")
    run_id = record_run(repo)
    # The ref lives in the reftable, where git (and dulwich) see it: no loose file.
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/gitrun/").split() == [RECORDS]
    assert not (repo / ".git" / "refs" / "gitrun").exists()
    code = run_code(repo / ".git", run_id)
    # HEAD is read from the reftable too (its HEAD file says refs/heads/.invalid).
    assert code["branch"] == "main"
    assert code["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert code["tree"] == expected_tree(repo, tmp_path)
    assert (
        git(repo, "reflog", "show", "--format=%H", RECORDS).split()[0]
        == git(repo, "rev-parse", RECORDS).strip()
    )
    git(repo, "gc", "-q", "--prune=now")
    assert run_id in _run_ids(repo)
    git(repo, "fsck", "--no-dangling")
    dulwich_repo = pytest.importorskip("dulwich.repo")
    independent = dulwich_repo.Repo(str(repo))
    assert independent.refs[RECORDS.encode()].decode() == git(repo, "rev-parse", RECORDS).strip()


def test_reftable_writers_race_through_git_update_ref(tmp_path: Path, newer_git: str) -> None:
    repo = new_repo(tmp_path / "rt", "--ref-format=reftable")
    script = textwrap.dedent(
        """
        import gitrun
        for i in range(6):
            with gitrun.start_run():
                gitrun.log_metric("m", i)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=repo) for _ in range(3)]
    assert all(p.wait() == 0 for p in procs)
    assert len(_run_ids(repo)) == 18  # compare-and-swap through git: nothing lost


def test_migrating_to_reftable_keeps_the_runs(tmp_path: Path, newer_git: str) -> None:
    repo = new_repo(tmp_path / "repo")
    first = record_run(repo)
    tip = git(repo, "rev-parse", RECORDS).strip()
    dry_run = subprocess.run(
        ["git", "refs", "migrate", "--ref-format=reftable", "--dry-run"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    if "reflog" in dry_run.stderr:
        # git < 2.48 cannot migrate reflogs (the user's nor gitrun's): drop them first.
        shutil.rmtree(repo / ".git" / "logs")
    git(repo, "refs", "migrate", "--ref-format=reftable")
    second = record_run(repo)
    assert _run_ids(repo) == {first, second}
    assert git(repo, "rev-parse", f"{RECORDS}~1").strip() == tip  # one history, continued


def test_reftable_without_a_git_that_knows_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitrun

    newer = newer_git_path()
    system = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout
    if newer is None or newer == "git" or int(system.split()[2].split(".")[1]) >= 45:
        pytest.skip("needs a git >= 2.45 to make the repository and an older system git")
    repo = tmp_path / "rt"
    subprocess.run([newer, "init", "-q", "--ref-format=reftable", str(repo)], check=True)
    before = files_of(repo)
    monkeypatch.chdir(repo)
    with pytest.raises(UnsupportedRepository, match=r"2\.45"):
        gitrun.start_run()
    assert files_of(repo) == before


def test_symbolic_ref_cycles_are_bounded(tmp_path: Path) -> None:
    from gitrun.core.git.repo import Repository

    repo = new_repo(tmp_path / "repo")
    refs = repo / ".git" / "refs" / "gitrun"
    refs.mkdir(parents=True)
    (refs / "a").write_text("ref: refs/gitrun/b\n")
    (refs / "b").write_text("ref: refs/gitrun/a\n")
    with pytest.raises(GitrunError, match=r"more than 5 levels"):
        Repository(str(repo / ".git")).refs.read("refs/gitrun/a")
    (refs / "b").write_text("ref: refs/heads/" + git(repo, "branch", "--show-current").strip() + "\n")
    assert Repository(str(repo / ".git")).refs.read("refs/gitrun/a") == git(repo, "rev-parse", "HEAD").strip()


def test_records_have_a_reflog_and_a_pruned_tip_is_recovered(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    record_run(repo)
    kept = record_run(repo)
    log = git(repo, "reflog", "show", "--format=%H", RECORDS).split()
    assert (
        len(log) == int(git(repo, "rev-list", "--count", RECORDS))
        and log[0] == git(repo, "rev-parse", RECORDS).strip()
    )
    good = log[0]
    # What `git gc --prune=now` racing a writer leaves: the ref at a commit whose
    # objects were pruned between the writer's write and its ref update.
    from gitrun.core.git.objects import Commit, Oid
    from gitrun.core.git.repo import Repository

    gitrun_repo = Repository(str(repo / ".git"))
    sig = "x <x@example.com> 1700000000 +0000"
    doomed_tree = gitrun_repo.write_tree({})
    doomed = gitrun_repo.write_commit(Commit(doomed_tree, (Oid(good),), sig, sig, "doomed\n"))
    assert gitrun_repo.refs.compare_and_swap(RECORDS, Oid(good), doomed, "doomed")
    os.unlink(repo / ".git" / "objects" / doomed[:2] / doomed[2:])
    with pytest.warns(UserWarning, match="which git pruned"):
        assert kept in _gitrun_run_ids(repo)  # reads go back to the last intact commit
    third = record_run(repo)  # the next write repairs the ref on top of it
    assert git(repo, "rev-parse", f"{RECORDS}~1").strip() == good
    assert {kept, third} <= _run_ids(repo)
    git(repo, "fsck", "--no-dangling")


def _gitrun_run_ids(repo: Path) -> set[str]:
    from gitrun.core.git.repo import Repository
    from gitrun.core.records.store import RecordStore

    store = RecordStore(Repository(str(repo / ".git")))
    root = store.root()
    assert root is not None
    ids = set()
    runs = store.repo.lookup(root, "runs")
    assert runs is not None
    for a in store.repo.read_tree(runs.oid).values():
        for b in store.repo.read_tree(a.oid).values():
            for c in store.repo.read_tree(b.oid).values():
                ids |= set(store.repo.read_tree(c.oid))
    return ids
