"""Helpers of the git fidelity matrix: one real repository per configuration git supports.

Each test builds a repository the way its users do (with real git, git-lfs and, for
reftable, a git >= 2.45), records a run into it, and checks the result against git
itself: the recorded code tree equals what ``git add -A; git write-tree`` gives in a
scratch copy, the records ref is visible to ``git for-each-ref``, runs survive
``git gc --prune=now`` — or gitrun refused clearly and wrote nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git

NEWER_GIT_DEFAULT = "/opt/gitrun-newer-git/bin/git"


def expected_tree(repo: Path, tmp_path: Path, *, leave_out: tuple[str, ...] = ()) -> str:
    """What git itself would commit: ``git add -A; git write-tree`` in a scratch copy."""
    scratch = tmp_path / f"scratch-{len(list(tmp_path.glob('scratch-*')))}"
    shutil.copytree(repo, scratch, symlinks=True)
    for path in leave_out:
        target = scratch / path
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    git(scratch, "add", "-A")
    return git(scratch, "write-tree").strip()


def record_run(cwd: Path, body: str = "", env: dict[str, str] | None = None) -> str:
    """Run a tracked script as its own process in ``cwd``; return the run id."""
    script = (
        "import gitrun\n"
        "with gitrun.start_run() as run:\n"
        "    gitrun.log_param('p', 1)\n"
        "    gitrun.log_metric('m', 0.5)\n" + textwrap.dedent(body) + "\nprint(run.info.run_id)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[-1]


def record_here(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, Any]]:
    """Record a run in this process with ``cwd`` as working directory: (run id, its code)."""
    import gitrun

    monkeypatch.chdir(cwd)
    with gitrun.start_run() as run:
        gitrun.log_metric("m", 0.5)
    gitrun.flush()
    return run.info.run_id, gitrun.get_run(run.info.run_id).record.get("code", {})


def run_code(git_dir: Path, run_id: str) -> dict[str, str]:
    """The run's recorded ``code`` section, read back through gitrun."""
    from gitrun.core.git.repo import Repository
    from gitrun.core.records import layout
    from gitrun.core.records.store import RecordStore

    repo = Repository(str(git_dir))
    store = RecordStore(repo)
    entry = store.entry(f"{layout.run_dir(run_id)}/{layout.RUN_FILE}")
    assert entry is not None, f"run {run_id} is not on {layout.RECORDS_REF} of {git_dir}"
    code: dict[str, str] = store.load_yaml(entry.oid, "run")["code"]
    return code


def files_of(path: Path) -> dict[str, str]:
    """Every file below ``path`` with its mode and content hash (to prove nothing was written)."""
    out = {}
    for item in sorted(path.rglob("*")):
        info = item.lstat()
        digest = (
            hashlib.sha256(item.read_bytes()).hexdigest() if item.is_file() and not item.is_symlink() else ""
        )
        out[str(item.relative_to(path))] = f"{oct(info.st_mode)}:{info.st_uid}:{digest}"
    return out


def reachable_blobs(git_dir: Path, refs: list[str]) -> list[bytes]:
    """The content of every blob reachable from ``refs``."""
    listing = git(git_dir, "rev-list", "--objects", *refs)
    blobs = []
    for line in listing.splitlines():
        oid = line.split(" ", 1)[0]
        if git(git_dir, "cat-file", "-t", oid).strip() == "blob":
            blobs.append(
                subprocess.run(
                    ["git", "cat-file", "blob", oid], cwd=git_dir, capture_output=True, check=True
                ).stdout
            )
    return blobs


def _git_version(git_exe: str) -> tuple[int, int]:
    out = subprocess.run([git_exe, "--version"], capture_output=True, text=True, check=False).stdout.split()
    if len(out) < 3:
        return (0, 0)
    major, minor = out[2].split(".")[:2]
    return int(major), int(minor)


def newer_git_path() -> str | None:
    """A git >= 2.45 (reftable): GITRUN_TEST_NEWER_GIT, .ci/newer-git's, or the system's."""
    for candidate in (os.environ.get("GITRUN_TEST_NEWER_GIT"), NEWER_GIT_DEFAULT, shutil.which("git")):
        if candidate and os.path.exists(candidate) and _git_version(candidate) >= (2, 45):
            return candidate
    return None


@pytest.fixture
def newer_git(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Puts a git >= 2.45 first on PATH (for this test and every process it starts)."""
    found = newer_git_path()
    if found is None:
        pytest.skip("no git >= 2.45 here: run .ci/newer-git (reftable is covered against dulwich meanwhile)")
    monkeypatch.setenv("PATH", f"{os.path.dirname(found)}{os.pathsep}{os.environ['PATH']}")
    yield found


def new_repo(path: Path, *init_args: str, files: dict[str, str] | None = None) -> Path:
    """A repository with one commit holding ``files`` (default: a train.py)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", *init_args)
    for name, text in (files or {"train.py": "print('train')\n"}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path
