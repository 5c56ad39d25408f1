"""gitrun finds, checks and writes a repository exactly as git does, or refuses having
written nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gitrun.errors import UnsupportedRepository
from tests.conftest import git
from tests.fidelity.conftest import files_of, new_repo, record_here, record_run, run_code


def _records(git_dir: Path) -> str:
    return git(git_dir, "for-each-ref", "--format=%(refname)", "refs/gitrun/")


def _git_add_all_tree(git_dir: Path, work_tree: Path, tmp_path: Path) -> str:
    """``git add -A; git write-tree`` for a separated git dir and work tree, on copies."""
    copy_dir, copy_tree = tmp_path / "copy.git", tmp_path / "copy-tree"
    shutil.copytree(git_dir, copy_dir, symlinks=True)
    shutil.copytree(work_tree, copy_tree, symlinks=True)
    env = {**os.environ, "GIT_DIR": str(copy_dir), "GIT_WORK_TREE": str(copy_tree)}
    subprocess.run(["git", "add", "-A"], cwd=copy_tree, env=env, check=True)
    return subprocess.run(
        ["git", "write-tree"], cwd=copy_tree, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def _separated(tmp_path: Path) -> tuple[Path, Path]:
    """A git dir and a work tree in unrelated folders (the dotfiles layout)."""
    git_dir, work = tmp_path / "meta" / "repo.git", tmp_path / "files"
    work.mkdir(parents=True)
    git_dir.parent.mkdir()
    env = {**os.environ, "GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(work)}
    subprocess.run(["git", "init", "-q"], cwd=work, env=env, check=True)
    (work / "train.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "-A"], cwd=work, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=work, env=env, check=True)
    (work / "train.py").write_text("x = 2\n")
    return git_dir, work


def test_git_dir_and_git_work_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git_dir, work = _separated(tmp_path)
    monkeypatch.setenv("GIT_DIR", str(git_dir))
    monkeypatch.setenv("GIT_WORK_TREE", str(work))
    run_id, code = record_here(work, monkeypatch)
    assert code["tree"] == _git_add_all_tree(git_dir, work, tmp_path)
    assert code["changed"] == ["train.py"]
    assert "refs/gitrun/records" in _records(git_dir)
    assert not (work / ".gitrun").exists()
    assert run_code(git_dir, run_id)["tree"] == code["tree"]


def test_core_worktree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git_dir, work = _separated(tmp_path)
    git(git_dir, "config", "core.worktree", str(work))
    (work / "sub").mkdir()
    monkeypatch.setenv("GIT_DIR", str(git_dir))  # no GIT_WORK_TREE: core.worktree says where
    _, code = record_here(work / "sub", monkeypatch)
    assert code["cwd"] == "sub"  # placed in the work tree core.worktree names
    assert code["tree"] == _git_add_all_tree(git_dir, work, tmp_path)


def test_git_file_and_separate_git_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, separate = tmp_path / "work", tmp_path / "elsewhere.git"
    work.mkdir()
    git(work, "init", "-q", f"--separate-git-dir={separate}")
    (work / "a.py").write_text("a\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "init")
    (work / "a.py").write_text("b\n")
    run_id, code = record_here(work, monkeypatch)
    assert run_code(separate, run_id)["tree"] == code["tree"] == _git_add_all_tree(separate, work, tmp_path)


def test_linked_worktree_records_into_the_common_dir_with_its_own_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = new_repo(tmp_path / "main")
    git(main, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "feature"))
    feature = tmp_path / "feature"
    (feature / "train.py").write_text("print('feature')\n")
    git(feature, "commit", "-q", "-am", "feature work")
    run_id, code = record_here(feature, monkeypatch)
    assert code["branch"] == "feature"
    assert (
        code["commit"] == git(feature, "rev-parse", "HEAD").strip() != git(main, "rev-parse", "HEAD").strip()
    )
    assert run_code(main / ".git", run_id)["tree"] == git(feature, "rev-parse", "HEAD^{tree}").strip()


def test_ceiling_directories_stop_the_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "repo")
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(repo / "a"))
    assert git(deep, "rev-parse", "--git-dir", check=False) == ""  # git finds nothing either
    record_here(deep, monkeypatch)
    assert _records(repo) == ""
    assert (deep / ".gitrun").is_dir()  # a standalone store, as outside any repository


def test_a_git_dir_that_is_not_a_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitrun

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "nothing-here"))
    with pytest.raises(UnsupportedRepository, match="GIT_DIR"):
        gitrun.start_run()
    assert list(work.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository another owner")
def test_another_users_repository_is_refused_until_declared_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    import gitrun

    repo = new_repo(tmp_path / "theirs")
    (repo / "train.py").write_text("changed\n")
    subprocess.run(["chown", "-R", "4242:4242", str(repo)], check=True)
    before = files_of(repo)
    monkeypatch.chdir(repo)
    with pytest.raises(UnsupportedRepository, match="another user"):
        gitrun.start_run()
    assert files_of(repo) == before  # no root-owned file in their .git
    git(repo, "config", "--global", "--add", "safe.directory", str(repo))
    _, code = record_here(repo, monkeypatch)
    assert code["changed"] == ["train.py"]


def _config(repo: Path, *pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        git(repo, "config", key, value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ((("core.repositoryformatversion", "2"),), "format version 2"),
        ((("core.repositoryformatversion", "1"), ("extensions.frobnicate", "yes")), "frobnicate"),
        ((("core.repositoryformatversion", "0"), ("extensions.objectFormat", "sha256")), "version 0"),
    ],
    ids=["version-2", "unknown-extension", "v1-extension-in-v0"],
)
def test_repository_formats_gitrun_cannot_honour_are_refused_writing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: tuple[tuple[str, str], ...], message: str
) -> None:
    import gitrun

    repo = new_repo(tmp_path / "repo")
    _config(repo, *settings)
    before = files_of(repo)
    monkeypatch.chdir(repo)
    with pytest.raises(UnsupportedRepository):
        gitrun.start_run()
    assert files_of(repo) == before
    # The same check, on its own: gitrun's own list of what it honours.
    from gitrun.core.git import format as fmt

    with pytest.raises(UnsupportedRepository, match=message):
        fmt.read(str(repo / ".git"))


def test_an_extension_git_knows_but_gitrun_does_not_is_refused(tmp_path: Path) -> None:
    from gitrun.core.git import format as fmt

    repo = new_repo(tmp_path / "repo")
    # Git 2.43+ keeps a second object format up to date for objects it writes; gitrun's
    # own writer would not, so it must refuse even where git accepts the repository.
    (repo / ".git" / "config").write_text(
        "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tcompatObjectFormat = sha256\n"
    )
    with pytest.raises(UnsupportedRepository, match="compatobjectformat"):
        fmt.read(str(repo / ".git"))


def test_the_config_reader_agrees_with_git(tmp_path: Path) -> None:
    from gitrun.core.git import config

    path = tmp_path / "config"
    path.write_text(
        '[core]\n\tRepositoryFormatVersion = 1 ; comment\n\tbare\n[Extensions]\n\tobjectFormat = "sha256"\n'
        '[remote "My Origin"]\n\turl = "a b" # c\n\tpromisor = true\n[weird]\n\tvalue = one \\\n two\n'
        '\tquoted = "x\\"y\\\\z\\tw"\n'
    )
    out = subprocess.run(
        ["git", "config", "--file", str(path), "--list", "-z"], capture_output=True, text=True, check=True
    ).stdout
    theirs: list[tuple[str, str | None]] = []
    for item in out.split("\0"):
        if item:
            key, sep, value = item.partition("\n")
            theirs.append((key, value if sep else None))
    assert config.read_file(str(path)) == theirs


def test_sha256_repository_with_a_standalone_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "repo", "--object-format=sha256")
    (repo / "train.py").write_text("changed\n")
    store = tmp_path / "mlruns"
    monkeypatch.setenv("GITRUN_TRACKING_URI", f"file:{store}")
    _, code = record_here(repo, monkeypatch)
    assert len(code["tree"]) == 64
    assert git(store, "rev-parse", "--show-object-format").strip() == "sha256"
    git(store, "fsck", "--strict", "--no-dangling")
    git(store, "gc", "-q", "--prune=now")
    assert _records(store).strip() == "refs/gitrun/records"


def test_a_store_of_the_other_object_format_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitrun
    from gitrun.tracking import session as tracking_session

    sha1 = new_repo(tmp_path / "sha1")
    sha256 = new_repo(tmp_path / "sha256", "--object-format=sha256")
    store = tmp_path / "store"
    monkeypatch.setenv("GITRUN_TRACKING_URI", str(store))
    record_here(sha1, monkeypatch)  # creates a SHA-1 store
    tracking_session.close_all()
    before = files_of(store)
    monkeypatch.chdir(sha256)
    with pytest.raises(UnsupportedRepository, match="sha256"):
        gitrun.start_run()
    gitrun.end_run()
    tracking_session.close_all()
    assert {k: v for k, v in files_of(store).items() if "/gitrun/" not in f"/{k}"} == {
        k: v for k, v in before.items() if "/gitrun/" not in f"/{k}"
    }


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_shared_repository_permissions_let_a_teammate_write(tmp_path: Path) -> None:
    shared = Path(os.environ.get("TMPDIR", "/tmp")) / f"gitrun-shared-{os.getpid()}-{tmp_path.name}"
    shared.mkdir(mode=0o755)
    try:
        repo = new_repo(shared / "repo", "--shared=group")
        subprocess.run(["chgrp", "-R", "4243", str(repo)], check=True)
        subprocess.run(["chmod", "g+s", str(repo / ".git" / "objects")], check=True)
        for _ in range(3):
            record_run(repo)  # root writes objects, refs, reflogs, fan-out folders
        objects = repo / ".git" / "objects"
        fanout = [d for d in objects.iterdir() if len(d.name) == 2]
        assert fanout and all(d.stat().st_mode & 0o2070 == 0o2070 for d in fanout)
        assert all(f.stat().st_mode & 0o040 for d in fanout for f in d.iterdir())
        ref = repo / ".git" / "refs" / "gitrun" / "records"
        assert ref.stat().st_mode & 0o060 == 0o060
        assert (repo / ".git" / "refs" / "gitrun").stat().st_mode & 0o2070 == 0o2070
        # A teammate (another uid in the repository's group) writes with git into
        # everything gitrun created: objects in every fan-out folder, the ref, its reflog.
        teammate = ["setpriv", "--reuid=4243", "--regid=4243", "--clear-groups"]
        (shared / "teammate.gitconfig").write_text("[safe]\n\tdirectory = *\n")
        env = {**os.environ, "HOME": str(shared), "GIT_CONFIG_GLOBAL": str(shared / "teammate.gitconfig")}
        blobs = "".join(f"teammate object {i}\n" for i in range(400)).encode()
        failures = 0
        for i in range(100):
            proc = subprocess.run(
                [*teammate, "git", "hash-object", "-w", "--stdin"],
                cwd=repo,
                input=blobs[i * 20 : i * 20 + 400] + str(i).encode(),
                capture_output=True,
                env=env,
                check=False,
            )
            failures += proc.returncode != 0
        assert failures == 0
        tip = git(repo, "rev-parse", "refs/gitrun/records").strip()
        moved = subprocess.run(
            [*teammate, "git", "update-ref", "-m", "teammate", "refs/gitrun/records", f"{tip}~1", tip],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert moved.returncode == 0, moved.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)
