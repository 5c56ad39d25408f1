"""The recorded code is exactly what ``git add -A`` would commit, in every configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git
from tests.fidelity.conftest import expected_tree, new_repo, reachable_blobs, record_here

pytestmark = pytest.mark.filterwarnings("ignore:gitrun. these submodules")


def _bare_remote(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    return remote


def _push_runs(repo: Path) -> None:
    from gitrun.tracking import sharing
    from gitrun.tracking.client import Client

    os.chdir(repo)
    sharing.push(Client(), "origin")


def test_clean_smudge_filter_stores_what_git_stores_and_no_plaintext_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "crypt"
    repo.mkdir()
    git(repo, "init", "-q")
    # A git-crypt style filter: git stores base64 text, the work tree holds plaintext.
    git(repo, "config", "filter.enc.clean", "base64 -w0")
    git(repo, "config", "filter.enc.smudge", "base64 -d")
    git(repo, "config", "filter.enc.required", "true")
    (repo / ".gitattributes").write_text("secret.yaml filter=enc\n")
    (repo / "secret.yaml").write_text("db_password: hunter2\n")
    (repo / "train.py").write_text("print(1)\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    (repo / "secret.yaml").write_text("db_password: correct-horse-battery\n")  # same-second edit
    remote = _bare_remote(repo, tmp_path)
    run_id, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path)
    assert "secret.yaml" in code["changed"]
    _push_runs(repo)
    blobs = reachable_blobs(
        remote, [ref for ref in git(remote, "for-each-ref", "--format=%(refname)").split()]
    )
    assert blobs, "the runs reached the remote"
    assert not any(b"hunter2" in blob or b"correct-horse" in blob for blob in blobs)
    assert run_id


def test_lfs_files_are_recorded_as_pointers_and_never_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git-lfs") is None:
        pytest.fail("git-lfs is not installed (apt-get install git-lfs; .ci/run does it)")
    repo = tmp_path / "lfs"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "lfs", "install", "--local")
    git(repo, "lfs", "track", "*.pt")
    weights = os.urandom(300_000)
    (repo / "model.pt").write_bytes(weights)
    (repo / "train.py").write_text("print(1)\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    (repo / "model.pt").write_bytes(weights[::-1])  # a tracked LFS file, changed
    (repo / "checkpoint.pt").write_bytes(weights[:1000] * 50)  # an untracked one
    remote = _bare_remote(repo, tmp_path)
    _, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path)
    for name in ("model.pt", "checkpoint.pt"):
        stored = git(repo, "cat-file", "-p", f"{code['tree']}:{name}")
        assert stored.startswith("version https://git-lfs.github.com/spec/v1"), stored[:80]
    _push_runs(repo)
    blobs = reachable_blobs(remote, ["refs/gitrun/log"])
    assert blobs
    for raw in (weights[::-1], weights[:1000] * 50):
        assert not any(raw[:4096] in blob for blob in blobs)


@pytest.mark.parametrize("autocrlf", ["false", "true"])
def test_eol_normalisation_matches_git_and_post_commit_linking_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autocrlf: str
) -> None:
    repo = new_repo(tmp_path / "eol", files={".gitattributes": "* text=auto\n", "train.py": "a = 1\n"})
    git(repo, "config", "core.autocrlf", autocrlf)
    (repo / "train.py").write_bytes(b"a = 2\r\nb = 3\r\n")
    (repo / "data.csv").write_bytes(b"x,y\r\n1,2\r\n")
    _, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path)
    # Committing that very code gives the same tree: the run can be linked to the commit.
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "crlf")
    assert git(repo, "rev-parse", "HEAD^{tree}").strip() == code["tree"]


def test_ident_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "ident", files={".gitattributes": "*.py ident\n", "train.py": "# $Id$\n"})
    (repo / "train.py").write_text("# $Id: 0123456789abcdef0123456789abcdef01234567 $\nx = 1\n")
    _, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path)
    assert "$Id$" in git(repo, "cat-file", "-p", f"{code['tree']}:train.py")


def _with_submodule(tmp_path: Path) -> tuple[Path, Path]:
    lib = new_repo(tmp_path / "lib", files={"lib.py": "V = 1\n"})
    repo = new_repo(tmp_path / "super")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    git(repo, "commit", "-q", "-m", "submodule")
    return repo, repo / "vendor/lib"


def test_a_moved_submodule_commit_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, sub = _with_submodule(tmp_path)
    (sub / "lib.py").write_text("V = 2\n")
    git(sub, "commit", "-q", "-am", "v2")
    moved = git(sub, "rev-parse", "HEAD").strip()
    _, code = record_here(repo, monkeypatch)
    assert code["dirty"] is True
    assert code["tree"] == expected_tree(repo, tmp_path)
    assert git(repo, "rev-parse", f"{code['tree']}:vendor/lib").strip() == moved
    assert "dirty_submodules" not in code


def test_edits_inside_a_submodule_are_flagged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, sub = _with_submodule(tmp_path)
    (sub / "lib.py").write_text("V = 'edited, not committed'\n")
    with pytest.warns(UserWarning, match="vendor/lib"):
        _, code = record_here(repo, monkeypatch)
    assert code["dirty"] is True
    assert code["dirty_submodules"] == ["vendor/lib"]
    assert code["tree"] == git(repo, "rev-parse", "HEAD^{tree}").strip() == expected_tree(repo, tmp_path)


def test_reproduce_checks_out_the_recorded_submodule_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitrun.tracking import reproduce
    from gitrun.tracking.client import Client

    repo, sub = _with_submodule(tmp_path)
    (sub / "lib.py").write_text("V = 2\n")
    git(sub, "commit", "-q", "-am", "v2")
    run_id, _ = record_here(repo, monkeypatch)
    checkout = reproduce.checkout(Client(), run_id, str(tmp_path / "again"))
    assert (Path(checkout.directory) / "vendor/lib/lib.py").read_text() == "V = 2\n"


def test_file_names_that_are_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "bytes"
    repo.mkdir()
    git(repo, "init", "-q")
    tracked = os.fsencode(repo) + b"/tracked-\xe9.txt"
    with open(tracked, "wb") as fh:
        fh.write(b"v1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    with open(tracked, "wb") as fh:
        fh.write(b"v2\n")
    with open(os.fsencode(repo) + b"/bad\xffname.txt", "wb") as fh:
        fh.write(b"new\n")
    run_id, code = record_here(repo, monkeypatch)  # must not raise UnicodeEncodeError
    assert code["tree"] == expected_tree(repo, tmp_path)
    names = subprocess.run(
        ["git", "ls-tree", "-z", "--name-only", code["tree"]], cwd=repo, capture_output=True, check=True
    ).stdout.split(b"\0")
    assert b"bad\xffname.txt" in names and b"tracked-\xe9.txt" in names
    assert len(code["changed"]) == 2  # recorded exactly (encode_captured)
    assert run_id


def test_ignored_secret_and_large_files_are_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "ignore", files={".gitignore": "*.log\nbuild/\n", "train.py": "x = 1\n"})
    (repo / "debug.log").write_text("ignored\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_bytes(b"\0" * 100)
    (repo / ".env").write_text("TOKEN=abc\n")
    (repo / "huge.bin").write_bytes(b"\1" * (2 * 1024 * 1024))
    (repo / "notes.md").write_text("kept\n")
    monkeypatch.setenv("GITRUN_SNAPSHOT_MAX_FILE_MB", "1")
    _, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path, leave_out=(".env", "huge.bin"))
    assert {s["path"] for s in code["skipped"]} == {".env", "huge.bin"}
    assert code["changed"] == ["notes.md"]


def test_sparse_checkout_keeps_what_is_outside_the_cone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repo(tmp_path / "sparse", files={"src/a.py": "a\n", "docs/big.md": "b\n", "top.py": "t\n"})
    git(repo, "sparse-checkout", "set", "src")
    assert not (repo / "docs").exists()
    (repo / "src" / "a.py").write_text("changed\n")
    _, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path)
    assert git(repo, "cat-file", "-p", f"{code['tree']}:docs/big.md") == "b\n"
    assert code["changed"] == ["src/a.py"] and "deleted" not in code


def test_file_mode_symlinks_intent_to_add_and_deletions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repo(tmp_path / "modes", files={"run.sh": "echo\n", "old.py": "o\n", "train.py": "t\n"})
    git(repo, "config", "core.fileMode", "false")
    os.chmod(repo / "run.sh", 0o755)  # ignored by git with core.fileMode=false
    os.symlink("train.py", repo / "link.py")
    (repo / "planned.py").write_text("p\n")
    git(repo, "add", "-N", "planned.py")
    (repo / "old.py").unlink()
    _, code = record_here(repo, monkeypatch)
    assert code["tree"] == expected_tree(repo, tmp_path)
    assert code["deleted"] == ["old.py"]
    assert git(repo, "ls-tree", code["tree"], "run.sh").split()[0] == "100644"


def test_a_repository_with_no_commit_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "unborn"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "train.py").write_text("print(1)\n")
    _, code = record_here(repo, monkeypatch)
    assert code["commit"] is None
    assert code["tree"] == expected_tree(repo, tmp_path)


def test_partial_clone_with_a_separate_store_fetches_what_it_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = new_repo(tmp_path / "source", files={f"data/f{i}.txt": f"{i}\n" * 50 for i in range(20)})
    (source / "train.py").write_text("print(1)\n")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "more")
    git(source, "config", "uploadpack.allowFilter", "true")
    git(source, "config", "uploadpack.allowAnySHA1InWant", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", "--sparse", f"file://{source}", str(clone))
    missing = git(clone, "rev-list", "--objects", "--missing=print", "HEAD").count("\n?")
    assert missing > 0  # the clone really lacks blobs
    (clone / "train.py").write_text("print(2)\n")
    store = tmp_path / "store"
    monkeypatch.setenv("GITRUN_TRACKING_URI", str(store))
    _, code = record_here(clone, monkeypatch)
    assert code["tree"] == expected_tree(clone, tmp_path)
    # The store alone holds the whole code of the run.
    listing = git(store, "rev-list", "--objects", "--missing=print", code["tree"])
    assert "\n?" not in "\n" + listing and len(listing.splitlines()) > 20
