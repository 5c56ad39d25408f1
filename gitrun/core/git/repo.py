"""A git repository: where its pieces live, and typed access to its objects."""

from __future__ import annotations

import os
import re

from gitrun.core.git.objects import (
    Commit,
    Oid,
    TreeEntry,
    decode_commit,
    decode_tree,
    encode_commit,
    encode_tree,
)
from gitrun.core.git.odb import ObjectDatabase
from gitrun.core.git.refs import RefStore
from gitrun.errors import GitrunError

_OBJECT_FORMAT = re.compile(r"^\s*objectformat\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class NotARepository(GitrunError):
    pass


class Repository:
    """One repository (bare or with a work tree), read and written without porcelain."""

    def __init__(self, git_dir: str, work_tree: str | None = None) -> None:
        self.git_dir = os.path.abspath(git_dir)
        self.work_tree = os.path.abspath(work_tree) if work_tree else None
        self.common_dir = _common_dir(self.git_dir)
        algorithm = _object_format(self.common_dir)
        self.odb = ObjectDatabase(os.path.join(self.common_dir, "objects"), algorithm)
        self.gitrun_dir = os.path.join(self.common_dir, "gitrun")
        self.refs = RefStore(self.common_dir, os.path.join(self.gitrun_dir, "locks"))

    # -- finding and creating --------------------------------------------------------

    @classmethod
    def discover(cls, start: str) -> Repository | None:
        """The repository whose work tree (or git dir) contains ``start``."""
        path = os.path.abspath(start)
        while True:
            found = cls.at(path)
            if found is not None:
                return found
            parent = os.path.dirname(path)
            if parent == path:
                return None
            path = parent

    @classmethod
    def at(cls, path: str) -> Repository | None:
        """The repository rooted exactly at ``path`` (work tree root or git dir)."""
        dot_git = os.path.join(path, ".git")
        if os.path.isdir(dot_git) and _looks_like_git_dir(dot_git):
            return cls(dot_git, path)
        if os.path.isfile(dot_git):
            with open(dot_git, encoding="utf-8") as fh:
                line = fh.read().strip()
            if line.startswith("gitdir:"):
                target = os.path.join(path, line[len("gitdir:") :].strip())
                return cls(os.path.normpath(target), path)
        if _looks_like_git_dir(path):
            if os.path.basename(path) == ".git":
                return cls(path, os.path.dirname(path))
            return cls(path, None)
        return None

    @classmethod
    def init_bare(cls, path: str) -> Repository:
        """Create a bare repository at ``path`` (no ``git`` binary needed)."""
        for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        head = os.path.join(path, "HEAD")
        if not os.path.exists(head):
            config = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"
            _write_new(os.path.join(path, "config"), config)
            _write_new(os.path.join(path, "description"), "gitrun standalone store\n")
            _write_new(head, "ref: refs/heads/main\n")
        return cls(path, None)

    # -- objects -----------------------------------------------------------------------

    def read_tree(self, oid: Oid) -> dict[str, TreeEntry]:
        return decode_tree(self.odb.read_kind(oid, b"tree"), self.odb.oid_size)

    def write_tree(self, entries: dict[str, TreeEntry] | list[TreeEntry]) -> Oid:
        return self.odb.write(b"tree", encode_tree(entries))

    def read_blob(self, oid: Oid) -> bytes:
        return self.odb.read_kind(oid, b"blob")

    def write_blob(self, data: bytes) -> Oid:
        return self.odb.write(b"blob", data)

    def read_commit(self, oid: Oid) -> Commit:
        return decode_commit(self.odb.read_kind(oid, b"commit"))

    def write_commit(self, commit: Commit) -> Oid:
        return self.odb.write(b"commit", encode_commit(commit))

    def lookup(self, tree: Oid, path: str) -> TreeEntry | None:
        """The entry at a slash-separated ``path`` below ``tree``, or None."""
        entry: TreeEntry | None = None
        current = tree
        for part in path.split("/"):
            if entry is not None and not entry.is_tree:
                return None
            entry = self.read_tree(current).get(part)
            if entry is None:
                return None
            current = entry.oid
        return entry

    def head_commit(self) -> Oid | None:
        """The commit HEAD of this work tree points at (None when unborn)."""
        try:
            with open(os.path.join(self.git_dir, "HEAD"), encoding="utf-8") as fh:
                head = fh.read().strip()
        except FileNotFoundError:
            return None
        if head.startswith("ref: "):
            return self.refs.read(head[5:])
        return Oid(head) if head else None

    def head_branch(self) -> str | None:
        try:
            with open(os.path.join(self.git_dir, "HEAD"), encoding="utf-8") as fh:
                head = fh.read().strip()
        except FileNotFoundError:
            return None
        if head.startswith("ref: refs/heads/"):
            return head[len("ref: refs/heads/") :]
        return None


def _looks_like_git_dir(path: str) -> bool:
    return (
        os.path.isfile(os.path.join(path, "HEAD"))
        and os.path.isdir(os.path.join(path, "objects"))
        and (os.path.isdir(os.path.join(path, "refs")) or os.path.isfile(os.path.join(path, "commondir")))
    ) or (os.path.isfile(os.path.join(path, "HEAD")) and os.path.isfile(os.path.join(path, "commondir")))


def _common_dir(git_dir: str) -> str:
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as fh:
            common = fh.read().strip()
    except FileNotFoundError:
        return git_dir
    return os.path.normpath(os.path.join(git_dir, common))


def _object_format(common_dir: str) -> str:
    try:
        with open(os.path.join(common_dir, "config"), encoding="utf-8") as fh:
            match = _OBJECT_FORMAT.search(fh.read())
    except FileNotFoundError:
        return "sha1"
    return match.group(1).lower() if match else "sha1"


def _write_new(path: str, text: str) -> None:
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(text)
