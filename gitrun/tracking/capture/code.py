"""The exact code a run ran on: what ``git add -A`` would commit, as a git tree.

The snapshot is git's own: a copy of the user's index (so sparse checkouts,
``skip-worktree`` and intent-to-add entries keep their meaning) is updated with
``git add -A`` and turned into a tree with ``git write-tree``, through
``GIT_INDEX_FILE`` pointing at the copy.  Everything git applies when it stores a
file applies: clean filters (git-crypt style encryption, Git LFS pointers),
``text``/``eol``/``core.autocrlf`` normalisation, ``ident``, ``core.fileMode``,
symlinks, submodules (their checked-out commit), ``.gitignore``, any file-name
bytes.  The user's HEAD, index, work tree and branches are never touched; the
snapshot's objects are written like ``git add`` writes them.  The tree is referenced
from the run's record (``code/``), so it travels with the runs and stays reachable.

``git status`` runs first (optional locks off): a clean work tree costs nothing more
(the snapshot is HEAD's tree).  Untracked files are left out (and listed as skipped)
when larger than ``GITRUN_SNAPSHOT_MAX_FILE_MB`` (default 10), when ``.gitrunignore``
excludes them, or when their name or content looks like a secret (rules in
:mod:`secrets`); tracked files are always included, as git would commit them.
Uncommitted changes inside a submodule cannot be part of the tree: the run lists such
submodules as ``dirty_submodules``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.cli import run_git
from gitrun.core.git.objects import MODE_GITLINK, MODE_TREE, Oid, hash_object
from gitrun.core.git.repo import Repository
from gitrun.errors import GitrunError, UnsupportedRepository
from gitrun.tracking.capture import secrets

_LIST_LIMIT = 1000
_CREDENTIALS = re.compile(r"(?<=://)[^/@]+@")


@dataclass
class CodeSnapshot:
    tree: Oid
    record: dict[str, Any] = field(default_factory=dict)
    # The live work tree, for this process's own messages (the untracked files' sizes).
    # Never recorded: the record travels, and a path of this machine means nothing on
    # another one; the record places the run inside the work tree by relative paths.
    work_tree: str = ""


def _max_untracked_bytes() -> int:
    try:
        return int(float(os.environ.get("GITRUN_SNAPSHOT_MAX_FILE_MB", "10")) * 1024 * 1024)
    except ValueError:
        return 10 * 1024 * 1024


def strip_credentials(url: str) -> str:
    return _CREDENTIALS.sub("", url)


_remote_urls: dict[str, str | None] = {}


def remote_url(repo: Repository) -> str | None:
    """URL of ``origin`` (else the first remote), credentials stripped; once per process."""
    if repo.common_dir not in _remote_urls:
        _remote_urls[repo.common_dir] = _read_remote_url(repo)
    return _remote_urls[repo.common_dir]


def _read_remote_url(repo: Repository) -> str | None:
    try:
        out = run_git(
            ["config", "-z", "--get-regexp", r"^remote\..*\.url$"], git_dir=repo.git_dir, check=False
        )
    except GitrunError:
        return None
    for item in out.split(b"\0"):
        name, _, url = item.decode("utf-8", "replace").partition("\n")
        if name.startswith("remote.origin."):
            return strip_credentials(url)
    first = out.split(b"\0")[0].decode("utf-8", "replace").partition("\n")[2]
    return strip_credentials(first) if first else None


@dataclass
class _Status:
    """What ``git status`` says differs from HEAD."""

    tracked_changes: bool = False
    untracked: list[str] = field(default_factory=list)
    dirty_submodules: list[str] = field(default_factory=list)


def _status(repo: Repository) -> _Status:
    out = run_git(
        [
            "status",
            "--porcelain=v2",
            "-z",
            "--untracked-files=all",
            "--no-renames",
            "--ignore-submodules=none",
        ],
        git_dir=repo.git_dir,
        work_tree=repo.work_tree,
        cwd=repo.work_tree,
    )
    status = _Status()
    for item in out.split(b"\0"):
        if not item:
            continue
        text = item.decode("utf-8", "surrogateescape")
        kind = text[:1]
        if kind == "?":
            status.untracked.append(text[2:])
            continue
        if kind not in ("1", "u"):
            continue
        fields = text.split(" ", 10 if kind == "u" else 8)
        xy, sub, path = fields[1], fields[2], fields[-1]
        if sub.startswith("S") and (sub[2] == "M" or sub[3] == "U"):
            status.dirty_submodules.append(path)  # edits inside it: not in any tree
        if sub.startswith("S") and sub[1] != "C" and xy == ".M":
            continue  # only the submodule's own work tree changed: the tree is the same
        status.tracked_changes = True
    return status


def snapshot(code: Repository, target: Repository, exclude: tuple[str, ...] = ()) -> CodeSnapshot:
    """Snapshot ``code``'s work tree into ``target``'s object database."""
    assert code.work_tree is not None
    if code.object_format != target.object_format:
        raise UnsupportedRepository(
            f"the code in {code.work_tree} uses {code.object_format} object ids but the store "
            f"{target.common_dir} uses {target.object_format}: one store cannot hold both. Record "
            "into the repository itself, or into a new store (a folder that does not exist yet)."
        )
    branch, head = code.refs.head(code.git_dir)
    head_tree = code.read_commit(head).tree if head else None
    status = _status(code)
    limit = _max_untracked_bytes()
    skipped: list[dict[str, str]] = []
    untracked: list[str] = []
    left_out = [os.path.relpath(ex, code.work_tree) for ex in exclude if _inside(ex, code.work_tree)]
    ignored = secrets.gitrunignored(code.work_tree, status.untracked)
    for path in status.untracked:
        full = os.path.join(code.work_tree, path)
        if any(path == out or path.startswith(out.rstrip("/") + "/") for out in left_out):
            continue
        reason = "excluded by .gitrunignore" if path in ignored else secrets.secret_reason(path)
        if reason:
            skipped.append({"path": path, "reason": reason})
            continue
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            untracked.append(path)  # a nested repository: git adds its commit
            continue
        if info.st_size > limit:
            skipped.append({"path": path, "reason": f"larger than {limit // (1024 * 1024)} MB"})
            continue
        if stat.S_ISREG(info.st_mode):
            reason = _content_secret(full)
            if reason:
                skipped.append({"path": path, "reason": reason})
                continue
        untracked.append(path)
    changed: list[str] = []
    deleted: list[str] = []
    if status.tracked_changes or untracked or head_tree is None:
        tree = _tree_of_work_tree(code, left_out + [s["path"] for s in skipped])
        if tree != head_tree:
            changed, deleted = _differences(code, head_tree, tree)
    else:
        tree = head_tree
    if target.common_dir != code.common_dir:
        copy_tree(code, target, tree)
    if status.dirty_submodules:
        warnings.warn(
            "gitrun: these submodules have uncommitted changes, which the run's code does not hold: "
            + ", ".join(status.dirty_submodules[:10]),
            stacklevel=4,
        )
    record: dict[str, Any] = {
        "commit": head,
        "branch": branch[len("refs/heads/") :] if branch and branch.startswith("refs/heads/") else None,
        "repo_url": remote_url(code),
        "dirty": bool(changed or deleted or status.dirty_submodules),
        "tree": tree,
    }
    # File names stay exact here (bytes that are not UTF-8 included): the store records
    # them losslessly (core.records.text.encode_captured), readers show them as \xHH.
    if changed:
        record["changed"] = sorted(changed)[:_LIST_LIMIT]
    if deleted:
        record["deleted"] = sorted(deleted)[:_LIST_LIMIT]
    if untracked:
        record["untracked"] = sorted(untracked)[:_LIST_LIMIT]
    if skipped:
        record["skipped"] = skipped[:_LIST_LIMIT]
    if status.dirty_submodules:
        record["dirty_submodules"] = sorted(status.dirty_submodules)[:_LIST_LIMIT]
    record.update(position(code.work_tree))
    return CodeSnapshot(tree, record, code.work_tree)


def position(work_tree: str) -> dict[str, str]:
    """Where this process started inside ``work_tree``, relative to its root (``/``
    separated): the working directory (``cwd``, ``.`` at the root) and the script
    (``entry_point``), each only when inside it.  Reproducing a run maps them into the
    worktree it checks out, on any machine."""
    from gitrun.tracking.capture import source

    found: dict[str, str] = {}
    for name, path in (("cwd", os.getcwd()), ("entry_point", source.entry_point())):
        relative = _relative(path, work_tree) if path else None
        if relative is not None:
            found[name] = relative
    return found


def _relative(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` when inside it (as given, else both resolved)."""
    for inner, outer in ((path, folder), (os.path.realpath(path), os.path.realpath(folder))):
        if _inside(inner, outer):
            return os.path.relpath(inner, outer).replace(os.sep, "/")
    return None


def _content_secret(path: str) -> str | None:
    """Why an untracked file's bytes must not enter the snapshot (a key or token), or None."""
    try:
        with open(path, "rb") as fh:
            return secrets.content_secret_reason(fh.read())
    except OSError:
        return None  # unreadable: git add will say so


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _tree_of_work_tree(code: Repository, left_out: list[str]) -> Oid:
    """``git add -A`` into a copy of the index, then ``git write-tree``."""
    assert code.work_tree is not None
    folder = tempfile.mkdtemp(prefix="gitrun-index-")
    index = os.path.join(folder, "index")
    try:
        try:
            # copy2 keeps the index's modification time, which git compares with the
            # files' to spot "racily clean" entries: a later time would make git trust
            # the stat data of a file edited within the same second as the index.
            shutil.copy2(os.path.join(code.git_dir, "index"), index)
        except FileNotFoundError:
            pass  # no index yet: git starts from an empty one
        env = {"GIT_INDEX_FILE": index}
        # Pathspecs come on stdin, NUL-separated: any file name, any number of them.
        specs = [":(top)"] + [f":(top,exclude,literal){path}" for path in left_out]
        common = {"git_dir": code.git_dir, "work_tree": code.work_tree, "cwd": code.work_tree, "env": env}
        run_git(
            [
                # The copy must not talk to the user's fsmonitor daemon, nor split off
                # a shared index into the repository.
                "-c",
                "core.fsmonitor=false",
                "-c",
                "core.splitIndex=false",
                "add",
                "-A",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ],
            input_bytes=b"\0".join(p.encode("utf-8", "surrogateescape") for p in specs),
            **common,  # type: ignore[arg-type]
        )
        return Oid(run_git(["write-tree"], **common).decode().strip())  # type: ignore[arg-type]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _differences(code: Repository, old: Oid | None, new: Oid) -> tuple[list[str], list[str]]:
    """Paths added or modified, and paths deleted, from tree ``old`` to tree ``new``."""
    empty = hash_object(b"tree", b"", code.object_format)[0]
    out = run_git(
        ["diff-tree", "-r", "-z", "--no-renames", "--name-status", old or empty, new],
        git_dir=code.git_dir,
    )
    items = out.split(b"\0")
    changed: list[str] = []
    deleted: list[str] = []
    for status, path in zip(items[0::2], items[1::2]):
        name = path.decode("utf-8", "surrogateescape")
        (deleted if status == b"D" else changed).append(name)
    return changed, deleted


def copy_tree(source: Repository, target: Repository, tree: Oid) -> None:
    """Make ``tree`` and everything below it present in ``target``."""
    if target.odb.contains(tree):
        return
    missing: list[Oid] = []
    _collect_missing(source, target, tree, missing)
    # In a partial clone, have git fetch what the work tree never needed, in one go.
    source.odb.prefetch([oid for oid in missing if not source.odb.contains(oid)])
    for oid in missing:
        kind, data = source.odb.read(oid)
        target.odb.write(kind, data)


def _collect_missing(source: Repository, target: Repository, tree: Oid, out: list[Oid]) -> None:
    """The objects of ``tree`` ``target`` lacks, children before their trees."""
    for entry in source.read_tree(tree).values():
        if entry.mode == MODE_TREE:
            if not target.odb.contains(entry.oid):
                _collect_missing(source, target, entry.oid, out)
        elif entry.mode != MODE_GITLINK and not target.odb.contains(entry.oid):
            out.append(entry.oid)
    out.append(tree)
