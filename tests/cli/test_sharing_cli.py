"""push/fetch/pull as a team uses them: counts, remote names, artifacts that reach the
shared store, run-relative pulls."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import gitrun
from gitrun.core.artifacts.digest import hash_bytes
from gitrun.errors import GitrunError, InvalidParameterValue, ResourceDoesNotExist
from tests.cli.test_artifacts_cli import run_cli
from tests.conftest import git


@pytest.fixture
def origin(in_repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(in_repo, "remote", "add", "origin", str(bare))
    return bare


def _stored(store: Path) -> set[str]:
    return {p.parent.name + p.name for p in (store / "objects").rglob("*") if p.is_file()}


def test_push_uploads_what_earlier_pushes_could_not(in_repo: Path, origin: Path, tmp_path: Path) -> None:
    """Runs pushed before an artifact remote was configured get their artifacts uploaded
    by the next push, although no run changed (item 5)."""
    with gitrun.start_run(run_name="early"):
        gitrun.log_text("weights", "model/weights.txt")
        gitrun.log_text("notes", "notes.txt")
    gitrun.flush()
    first = run_cli("push")
    assert first.stdout.strip() == "1 run pushed to origin"
    assert first.stderr.strip() == (  # a plain line, not Python's "file.py:12: UserWarning"
        "gitrun: pushed runs reference artifacts but no artifact remote is configured, so others cannot "
        "download them (gitrun config artifacts.remote URL; the next push uploads them)"
    )
    shared = tmp_path / "shared"
    run_cli("config", "artifacts.remote", str(shared))
    second = run_cli("push").stdout
    assert second.startswith("origin: up to date (no run to push); 2 artifact object(s) uploaded")
    assert {hash_bytes(b"weights").hexdigest, hash_bytes(b"notes").hexdigest} <= _stored(shared)
    third = run_cli("push").stdout
    assert third.strip() == "origin: up to date (no run to push)"  # nothing left to upload


def test_push_and_fetch_count_runs(in_repo: Path, origin: Path, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        with gitrun.start_run(run_name=name):
            pass
    gitrun.flush()
    assert run_cli("push").output.strip() == "3 runs pushed to origin"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    empty = subprocess.run(["gitrun", "runs", "ls"], cwd=clone, capture_output=True, text=True, check=True)
    assert "gitrun fetch origin" in empty.stdout
    fetched = subprocess.run(["gitrun", "fetch"], cwd=clone, capture_output=True, text=True, check=True)
    assert fetched.stdout.startswith("3 runs fetched from origin")
    again = subprocess.run(["gitrun", "fetch"], cwd=clone, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "origin: up to date (no new runs)"


def test_a_remote_name_that_does_not_exist(in_repo: Path, origin: Path) -> None:
    with pytest.raises(GitrunError, match=r"no git remote named 'nosuchremote' \(remotes here: origin\)"):
        run_cli("push", "nosuchremote")
    with pytest.raises(GitrunError, match="no git remote named 'upstream'"):
        run_cli("fetch", "upstream")


def test_pull_of_a_remote_name_points_to_fetch(in_repo: Path, origin: Path) -> None:
    with pytest.raises(
        InvalidParameterValue, match="'origin' is a git remote: runs come with `gitrun fetch origin`"
    ):
        run_cli("pull", "origin")


def test_pull_by_run_path_and_by_digest_keeps_the_file_name(
    in_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gitrun.start_run(run_name="trained"):
        gitrun.log_text("the model", "model/model.pkl")
    gitrun.flush()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.chdir(out_dir)
    repo = ("--tracking-uri", str(in_repo))
    written = run_cli(*repo, "pull", "trained:model/model.pkl").output.strip()
    assert Path(written) == out_dir / "model" / "model.pkl" and Path(written).read_text() == "the model"
    digest = hash_bytes(b"the model")
    by_hash = run_cli(*repo, "pull", str(digest)).output.strip()
    assert by_hash == "model.pkl" and (out_dir / "model.pkl").read_text() == "the model"
    with pytest.raises(ResourceDoesNotExist, match="not found in run"):
        run_cli(*repo, "pull", "trained:nope.txt")
    with pytest.raises(InvalidParameterValue, match="is not a digest"):
        run_cli(*repo, "pull", "md5:0123456789abcdef")
    assert sorted(p.name for p in out_dir.iterdir()) == ["model", "model.pkl"]  # no store created here


def test_get_in_a_clone_names_the_missing_file(in_repo: Path, origin: Path, tmp_path: Path) -> None:
    """A file whose object never reached any store is named by path and digest, and an
    unrelated folder missing everywhere does not hide a file that is there (item 5)."""
    shared = tmp_path / "shared"
    with gitrun.start_run(run_name="r") as run:
        gitrun.log_text("kept", "kept.txt")
        gitrun.log_text("lost", "lost.txt")
        folder = tmp_path / "ck"
        folder.mkdir()
        (folder / "w.bin").write_bytes(b"folder file")
        gitrun.log_artifacts(str(folder), "checkpoints")
    gitrun.flush()
    run_cli("push")  # records only: no artifact remote yet
    run_cli("config", "artifacts.remote", str(shared))
    git(in_repo, "add", ".gitrun.yaml")
    git(in_repo, "commit", "-q", "-m", "store")
    git(in_repo, "push", "-q", "origin", "HEAD:main")
    from gitrun.tracking.artifacts.stores import stores_for

    stores = stores_for(gitrun.MlflowClient().store)
    remote = stores.remote()
    assert remote is not None
    stores.local.copy_to(remote, {hash_bytes(b"kept")})  # only this one reaches the store
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    subprocess.run(["gitrun", "fetch"], cwd=clone, check=True, capture_output=True)
    ok = subprocess.run(
        ["gitrun", "artifacts", "get", run.info.run_id[:8], "kept.txt", "-o", "dl"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    lost = subprocess.run(
        ["gitrun", "artifacts", "get", run.info.run_id[:8], "lost.txt", "-o", "dl"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert lost.returncode == 1
    assert f"lost.txt ({hash_bytes(b'lost')}) is in neither the local store or {shared}" in lost.stderr
    assert "must run `gitrun push`" in lost.stderr
