"""The record store: read records at the tip of the records ref, and commit edits.

Every commit is compare-and-swap on one ref.  When another writer moved the ref
first, the edit is re-applied on the new tip, merging any record both touched
(see :mod:`merge`), and tried again.  HEAD, the index, the work tree and the user's
branches are never read for writing, let alone changed.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from gitrun.core.git.identity import signature
from gitrun.core.git.objects import MODE_BLOB, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.writelog import write_log
from gitrun.errors import (
    DamagedRecordWarning,
    GitrunError,
    InvalidRecord,
    RefConflict,
    ResourceDoesNotExist,
    storage_error,
    warn_always,
)

MergeFn = Callable[[Repository, Oid | None, Oid, Oid], Oid]

_MAX_ATTEMPTS = 200
_PRUNE_RETRIES = 5
T = TypeVar("T")
_warned: set[Oid] = set()


class ObjectsRemoved(GitrunError):
    """Objects a commit needs vanished before the ref moved; the flush is retried."""


@dataclass(frozen=True)
class Edit:
    """Put ``oid`` at a path; ``base`` is what the writer started from.

    When the tip holds something other than ``base`` at that path, ``merge`` builds
    the result from (base, ours, theirs).
    """

    oid: Oid
    mode: int
    base: Oid | None
    merge: MergeFn | None = None


class RecordStore:
    def __init__(self, repo: Repository, ref: str = layout.RECORDS_REF) -> None:
        self.repo = repo
        self.ref = ref
        self._checked_tip: Oid | None = None
        self._written = write_log(repo.odb)

    # -- reading ---------------------------------------------------------------------

    def tip(self) -> Oid | None:
        """The newest intact records commit: the ref's, or, if git pruned that commit
        (``git gc --prune=now`` racing a writer), the newest intact one of its reflog."""
        return self._intact(self.repo.refs.read(self.ref))

    def _intact(self, tip: Oid | None) -> Oid | None:
        if tip is None or self.repo.odb.contains(tip):
            return tip
        try:
            # A commit this process wrote is written back from its write log by the read.
            self.repo.read_commit(tip)
            return tip
        except GitrunError:
            pass
        for older in self.repo.refs.reflog(self.ref):
            if older != tip and self.repo.odb.contains(older):
                try:
                    self.repo.read_tree(self.repo.read_commit(older).tree)
                except GitrunError:
                    continue
                if older not in _warned:
                    _warned.add(older)
                    warnings.warn(
                        f"{self.ref} in {self.repo.common_dir} points at {tip}, which git pruned (was "
                        f"`git gc --prune=now` run while gitrun was writing?); reading {older} from its "
                        "reflog instead. The next write repairs the ref.",
                        stacklevel=3,
                    )
                return older
        raise InvalidRecord(
            f"{self.ref} in {self.repo.common_dir} points at {tip}, which is missing, and its reflog "
            "holds no intact commit to go back to"
        )

    def root(self, tip: Oid | None = None) -> Oid | None:
        tip = tip if tip is not None else self.tip()
        if tip is None:
            return None
        try:
            root = self.repo.read_commit(tip).tree
        except ResourceDoesNotExist as exc:
            raise InvalidRecord(
                f"the records commit {tip} ({self.ref}) is missing from {self.repo.common_dir} "
                f"({exc.message}). A `git gc --prune=now` or `git prune --expire=now` running while gitrun "
                "recorded can do this "
                f"(git's documented unsafe case). Point the ref back at an earlier commit: `git reflog show "
                f"{self.ref}`, then `git update-ref {self.ref} <commit>`"
            ) from None
        if tip != self._checked_tip:
            self._check_schema(root)
            self._checked_tip = tip
        return root

    def _check_schema(self, root: Oid) -> None:
        entry = self.repo.lookup(root, layout.STORE_FILE)
        if entry is None:
            return
        info = yamlfmt.load(self.repo.read_blob(entry.oid), layout.STORE_FILE)
        version = info.get("schema_version") if isinstance(info, dict) else None
        if not isinstance(version, int) or version > layout.SCHEMA_VERSION:
            raise InvalidRecord(
                f"the records in {self.repo.common_dir} use schema version {version!r}; this gitrun "
                f"reads up to version {layout.SCHEMA_VERSION}: upgrade gitrun (pip install -U gitrun)"
            )

    def entry(self, path: str, root: Oid | None = None) -> TreeEntry | None:
        root = root if root is not None else self.root()
        return self.repo.lookup(root, path) if root else None

    def load_yaml(self, oid: Oid, where: str) -> dict[str, Any]:
        data = yamlfmt.load(self.repo.read_blob(oid), where)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise InvalidRecord(f"{where} should hold a mapping, found {type(data).__name__}")
        return data

    def blob_for(self, data: Mapping[str, Any]) -> Oid:
        text = yamlfmt.dump(data).encode()
        return self.retrying(lambda: self.repo.write_blob(text), "write a record into")

    def retrying(self, write: Callable[[], T], doing: str) -> T:
        """``write()``, tried again when a concurrent ``git prune`` removed a folder or a
        temporary object file under it; other ``OSError`` become gitrun errors."""
        for attempt in range(_PRUNE_RETRIES):
            last = attempt == _PRUNE_RETRIES - 1
            try:
                return write()
            except FileNotFoundError as exc:
                if last:
                    raise storage_error(exc, f"{doing} {self.repo.common_dir}") from exc
                self.repo.odb.forget(())  # its fan-out folders are made again
            except OSError as exc:
                raise storage_error(exc, f"{doing} {self.repo.common_dir}") from exc
        raise AssertionError("unreachable")

    # -- writing ---------------------------------------------------------------------

    def commit(
        self, edits: Mapping[str, Edit], message: str, edit_objects: Iterable[Oid] = ()
    ) -> dict[str, Oid]:
        """Apply edits on the current tip with compare-and-swap; return what landed.

        The result maps each path to the object finally stored there (``Edit.oid``
        unless a merge with another writer's version was needed).  ``edit_objects``
        are further objects the edits need that were written before this call (the
        writer's new blobs and trees): they are checked to exist before the ref moves.

        Raises:
            NoSpace: the disk is full (or a quota or size limit was reached).
            StoreUnavailable: the repository cannot be written (read-only...).
            RefConflict: other writers kept moving the ref.
            ObjectsRemoved: git removed objects the commit needs (the caller writes
                them again).
        """
        landed = self.retrying(lambda: self._commit(edits, message, edit_objects), "record into")
        self._restore(self._written.after_commit(self.repo.odb))
        return landed

    def recheck(self) -> None:
        """Write back what a concurrent prune deleted of recent commits (at exit)."""
        self._restore(self._written.recheck(self.repo.odb))

    def _restore(self, restored: list[Oid]) -> None:
        if restored:
            warn_always(
                f"gitrun: {len(restored)} object(s) of records just committed to {self.repo.common_dir} were "
                "deleted by a concurrent `git gc --prune=now` (or `git prune`); they were written again",
                DamagedRecordWarning,
            )

    def _commit(self, edits: Mapping[str, Edit], message: str, edit_objects: Iterable[Oid]) -> dict[str, Oid]:
        delay = 0.0005
        odb = self.repo.odb
        needed = {*(edit.oid for edit in edits.values()), *edit_objects}
        for _attempt in range(_MAX_ATTEMPTS):
            odb.revalidate()
            ref_value = self.repo.refs.read(self.ref)
            tip = self._intact(ref_value)
            root = self.root(tip) if tip else None
            landed: dict[str, Oid] = {}
            changes: dict[str, TreeEntry | None] = {}
            if root is None:
                changes.update(self._initial_entries())
            for path, edit in edits.items():
                current = self.repo.lookup(root, path) if root else None
                result = edit.oid
                if current is not None and current.oid not in (edit.base, edit.oid):
                    if edit.merge is None:
                        result = edit.oid
                    else:
                        result = edit.merge(self.repo, edit.base, edit.oid, current.oid)
                landed[path] = result
                changes[path] = TreeEntry(path.rsplit("/", 1)[-1], edit.mode, result)
            with odb.tracking() as written:
                new_root = apply_edits(self.repo, root, changes)
                assert new_root is not None
                if new_root == root and ref_value == tip:
                    return landed
                who = str(signature(self.repo.common_dir))
                commit = self.repo.write_commit(
                    Commit(new_root, (tip,) if tip else (), who, who, message.rstrip("\n") + "\n")
                )
            # Everything the new commit adds must still exist: git's maintenance may
            # have removed an object this process wrote earlier and remembered.
            gone = odb.missing({*written, *landed.values(), *needed})
            if gone and not self._written.restore_ids(odb, gone):
                # All of them were ours and are written again: build the commit anew.
                self._restore(gone)
                continue
            if gone:
                raise ObjectsRemoved(
                    f"objects gitrun wrote for {self.ref} were removed by git (a concurrent prune or "
                    f"repack?): {', '.join(gone[:3])}; they will be written again"
                )
            if self.repo.refs.compare_and_swap(self.ref, ref_value, commit, message):
                if ref_value != tip:
                    self._drop_pruned_reflog_entries()
                return landed
            time.sleep(delay * random.random())
            delay = min(delay * 2, 0.05)
        raise RefConflict(
            f"could not update {self.ref} in {self.repo.common_dir}: other writers kept moving it "
            f"({_MAX_ATTEMPTS} attempts)"
        )

    def _drop_pruned_reflog_entries(self) -> None:
        """After repairing a ref that pointed at a pruned commit, drop the reflog entries
        naming missing commits (``git fsck`` reports them), keeping every other one."""
        from gitrun.core.git.cli import run_git_status

        run_git_status(
            ["reflog", "expire", "--stale-fix", "--expire=never", "--expire-unreachable=never", self.ref],
            git_dir=self.repo.git_dir,
        )

    def _initial_entries(self) -> dict[str, TreeEntry | None]:
        info = {"schema_version": layout.SCHEMA_VERSION, "layout": "runs/<id[0]>/<id[1]>/<id[2]>/<id>"}
        return {layout.STORE_FILE: TreeEntry(layout.STORE_FILE, MODE_BLOB, self.blob_for(info))}

    def put_blob(self, path: str, data: Mapping[str, Any], base: Oid | None, merge: MergeFn | None) -> Oid:
        """Commit one YAML file; returns the object that landed."""
        edit = Edit(self.blob_for(data), MODE_BLOB, base, merge)
        return self.commit({path: edit}, f"gitrun: update {path}")[path]
