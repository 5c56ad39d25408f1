"""A git repository: where its pieces live, and typed access to its objects."""

from __future__ import annotations

import os

from gitrun.core.git import discovery
from gitrun.core.git import format as fmt
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
from gitrun.core.git.refs import FileRefs, GitRefs, RefStore


class Repository:
    """One repository (bare or with a work tree), read and written without porcelain.

    Opening a repository checks its format (:mod:`.format`): one git or gitrun cannot
    handle is refused with :class:`UnsupportedRepository` before anything is written.
    """

    def __init__(self, git_dir: str, work_tree: str | None = None, *, common_dir: str | None = None) -> None:
        self.git_dir = os.path.abspath(git_dir)
        self.work_tree = os.path.abspath(work_tree) if work_tree else None
        self.common_dir = common_dir or discovery.common_dir(self.git_dir)
        self.format = fmt.read(self.common_dir)
        self.odb = ObjectDatabase(
            os.path.join(self.common_dir, "objects"),
            self.format.object_format,
            shared=self.format.shared,
            git_dir=self.git_dir,
            promisor=self.format.promisor_remotes[0] if self.format.partial_clone else None,
        )
        self.gitrun_dir = os.path.join(self.common_dir, "gitrun")
        self.refs: RefStore
        if self.format.ref_storage == "files":
            self.refs = FileRefs(
                self.common_dir,
                os.path.join(self.gitrun_dir, "locks"),
                oid_size=self.format.oid_size,
                shared=self.format.shared,
            )
        else:
            self.refs = GitRefs(self.git_dir, oid_size=self.format.oid_size)

    @property
    def object_format(self) -> str:
        return self.format.object_format

    # -- finding and creating --------------------------------------------------------

    @classmethod
    def _of(cls, found: discovery.Found | None) -> Repository | None:
        if found is None:
            return None
        return cls(found.git_dir, found.work_tree, common_dir=found.common_dir)

    @classmethod
    def discover(cls, start: str) -> Repository | None:
        """The repository git would use when run in ``start`` (see :mod:`.discovery`)."""
        return cls._of(discovery.discover(start))

    @classmethod
    def at(cls, path: str) -> Repository | None:
        """The repository rooted exactly at ``path`` (work tree root or git dir)."""
        return cls._of(discovery.at(path))

    @classmethod
    def init_bare(cls, path: str, object_format: str = "sha1") -> Repository:
        """Create a bare repository at ``path`` (no ``git`` binary needed)."""
        for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        head = os.path.join(path, "HEAD")
        if not os.path.exists(head):
            if object_format == "sha1":
                config = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"
            else:
                config = (
                    "[core]\n\trepositoryformatversion = 1\n\tfilemode = true\n\tbare = true\n"
                    f"[extensions]\n\tobjectformat = {object_format}\n"
                )
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
        return self.refs.head(self.git_dir)[1]

    def head_branch(self) -> str | None:
        branch = self.refs.head(self.git_dir)[0]
        if branch and branch.startswith("refs/heads/"):
            return branch[len("refs/heads/") :]
        return None


def _write_new(path: str, text: str) -> None:
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(text)
