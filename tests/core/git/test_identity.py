"""The one commit signature: git's identity order, the injectable clock, safe header text."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.git import identity
from gitrun.core.git.identity import Signature, signature
from gitrun.core.git.objects import MODE_BLOB
from gitrun.core.git.repo import Repository
from gitrun.core.records.store import Edit, RecordStore
from tests.conftest import git


def test_committer_variables_win_then_repository_config_then_global(
    work_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_dir = str(work_repo / ".git")
    assert signature(git_dir).person == "Test Committer <committer@example.com>"
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    assert signature(git_dir).person == "Test <t@example.com>"  # the global config (conftest)
    git(work_repo, "config", "user.name", "Repo Person")
    git(work_repo, "config", "user.email", "repo@example.com")
    assert signature(git_dir).person == "Repo Person <repo@example.com>"
    # What git itself would sign with.
    assert git(work_repo, "var", "GIT_COMMITTER_IDENT").rsplit(" ", 2)[0] == "Repo Person <repo@example.com>"
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "env@example.com")
    assert signature(git_dir).person == "Repo Person <env@example.com>"


def test_user_and_host_when_nothing_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    for name in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    (isolated_home / ".gitconfig").write_text("")
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "someone")
    monkeypatch.setattr(identity.socket, "gethostname", lambda: "box")
    assert signature(str(tmp_path)).person == "someone <someone@box>"


def test_clock_is_injectable_and_text_is_sanitised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Evil\n<Name>")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "e@x")
    assert str(signature(None, clock=lambda: 1_700_000_000.9)) == "Evil Name <e@x> 1700000000 +0000"
    monkeypatch.setattr(identity, "clock", lambda: 42.0)
    assert signature(None).time == 42
    assert str(Signature("a", "b", 5, offset_minutes=-90)) == "a <b> 5 -0130"
    assert str(Signature("a", "b", 5, offset_minutes=330)) == "a <b> 5 +0530"


def test_records_commits_and_reflog_use_the_signature(
    work_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    git(work_repo, "config", "user.name", "Repo Person")
    git(work_repo, "config", "user.email", "repo@example.com")
    monkeypatch.setattr(identity, "clock", lambda: 1_234_567_890.0)
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    store = RecordStore(repo)
    blob = repo.write_blob(b"x: 1\n")
    store.commit({"experiments/0.yaml": Edit(blob, MODE_BLOB, None)}, "gitrun: test")
    shown = git(work_repo, "log", "-1", "--format=%cn|%ce|%ct|%an", store.ref).strip()
    assert shown == "Repo Person|repo@example.com|1234567890|Repo Person"
    reflog = (work_repo / ".git" / "logs" / "refs" / "gitrun" / "records").read_text().splitlines()
    assert reflog[-1].split("\t")[0].endswith("Repo Person <repo@example.com> 1234567890 +0000")
