"""The exact code a run ran on: HEAD plus every uncommitted change, as a git tree.

The snapshot is built with plumbing only: ``git status`` (with optional locks off,
so it never rewrites the user's index) says what changed, changed and untracked
files are written as blobs, and a tree is assembled from HEAD's tree.  Nothing of the
user's HEAD, index, work tree or branches is touched.  The tree is referenced from
the run's record (``code/``), so it travels with the runs on push and stays
reachable.

Untracked files are left out (and listed as skipped) when larger than
``GITRUN_SNAPSHOT_MAX_FILE_MB`` (default 10), when ``.gitrunignore`` excludes them, or
when their name or content looks like a secret (rules in :mod:`secrets`); tracked
files are always included.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.cli import run_git
from gitrun.core.git.objects import MODE_BLOB, MODE_EXEC, MODE_LINK, MODE_TREE, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.records.store import apply_edits
from gitrun.errors import GitrunError
from gitrun.tracking.capture import secrets

_LIST_LIMIT = 1000
_CREDENTIALS = re.compile(r"(?<=://)[^/@]+@")


@dataclass
class CodeSnapshot:
    tree: Oid
    record: dict[str, Any] = field(default_factory=dict)


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


def _status(repo: Repository) -> list[tuple[str, str]]:
    """``(kind, path)`` of changed tracked ("1"/"u") and untracked ("?") paths."""
    out = run_git(
        [
            "status",
            "--porcelain=v2",
            "-z",
            "--untracked-files=all",
            "--no-renames",
            "--ignore-submodules=all",
        ],
        cwd=repo.work_tree,
    )
    result = []
    for item in out.split(b"\0"):
        if not item:
            continue
        text = item.decode("utf-8", "surrogateescape")
        kind = text[:1]
        if kind == "?":
            result.append(("?", text[2:]))
        elif kind == "1":
            result.append(("1", text.split(" ", 8)[8]))
        elif kind == "u":
            result.append(("1", text.split(" ", 10)[10]))
    return result


def _is_secret(path: str) -> str | None:
    """Why an untracked file must not enter the snapshot (see :mod:`secrets`), or None."""
    return secrets.secret_reason(path)


def snapshot(code: Repository, target: Repository, exclude: tuple[str, ...] = ()) -> CodeSnapshot:
    """Snapshot ``code``'s work tree into ``target``'s object database."""
    assert code.work_tree is not None
    head = code.head_commit()
    head_tree = code.read_commit(head).tree if head else None
    edits: dict[str, TreeEntry | None] = {}
    changed: list[str] = []
    deleted: list[str] = []
    skipped: list[dict[str, str]] = []
    untracked: list[str] = []
    limit = _max_untracked_bytes()
    status = _status(code)
    ignored = secrets.gitrunignored(code.work_tree, [path for kind, path in status if kind == "?"])
    for kind, path in status:
        full = os.path.join(code.work_tree, path)
        if any(full == ex or full.startswith(ex + os.sep) for ex in exclude):
            continue
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            edits[path] = None
            deleted.append(path)
            continue
        if stat.S_ISDIR(info.st_mode):
            continue  # an untracked nested repository
        if kind == "?":
            reason = "excluded by .gitrunignore" if path in ignored else _is_secret(path)
            if reason:
                skipped.append({"path": path, "reason": reason})
                continue
            if info.st_size > limit:
                skipped.append({"path": path, "reason": f"larger than {limit // (1024 * 1024)} MB"})
                continue
        if stat.S_ISLNK(info.st_mode):
            oid, mode = target.write_blob(os.readlink(full).encode("utf-8", "surrogateescape")), MODE_LINK
        else:
            with open(full, "rb") as fh:
                data = fh.read()
            reason = secrets.content_secret_reason(data) if kind == "?" else None
            if reason:
                skipped.append({"path": path, "reason": reason})
                continue
            oid = target.write_blob(data)
            mode = MODE_EXEC if info.st_mode & stat.S_IXUSR else MODE_BLOB
        edits[path] = TreeEntry(os.path.basename(path), mode, oid)
        changed.append(path)
        if kind == "?":
            untracked.append(path)
    if head_tree is not None and target.common_dir != code.common_dir:
        copy_tree(code, target, head_tree)
    tree = apply_edits(target, head_tree, edits) if edits else head_tree
    if tree is None:
        tree = target.write_tree({})
    record: dict[str, Any] = {
        "root": code.work_tree,
        "commit": head,
        "branch": code.head_branch(),
        "repo_url": remote_url(code),
        "dirty": bool(changed or deleted),
        "tree": tree,
    }
    if changed:
        record["changed"] = sorted(changed)[:_LIST_LIMIT]
    if deleted:
        record["deleted"] = sorted(deleted)[:_LIST_LIMIT]
    if untracked:
        record["untracked"] = sorted(untracked)[:_LIST_LIMIT]
    if skipped:
        record["skipped"] = skipped[:_LIST_LIMIT]
    return CodeSnapshot(tree, record)


def copy_tree(source: Repository, target: Repository, tree: Oid) -> None:
    """Make ``tree`` and everything below it present in ``target``."""
    if target.odb.contains(tree):
        return
    for entry in source.read_tree(tree).values():
        if entry.mode == MODE_TREE:
            copy_tree(source, target, entry.oid)
        elif entry.mode != 0o160000 and not target.odb.contains(entry.oid):
            kind, data = source.odb.read(entry.oid)
            target.odb.write(kind, data)
    kind, data = source.odb.read(tree)
    target.odb.write(kind, data)
