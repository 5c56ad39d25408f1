"""Sharing runs between machines: artifacts to the shared store, records through git.

Artifacts are uploaded and confirmed *before* the records that reference them are
pushed, so a teammate never fetches a run whose artifacts the shared store lacks
(the "object does not exist on server" failure of git-lfs).  Every push also uploads
what earlier pushes could not (no remote was configured then, or it was unreachable):
see :func:`gitrun.tracking.artifact_sync.upload_pending`.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import changes, sync
from gitrun.core.registry import sync as registry_sync
from gitrun.errors import GitrunError
from gitrun.tracking.client import Client

_REMOTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class SyncReport:
    """What a push or fetch did, in the units people count."""

    result: sync.SyncResult
    runs: int
    """Runs sent (push) or received (fetch): new or changed."""
    artifacts: int = 0
    """Artifact objects uploaded by a push."""
    artifact_bytes: int = 0

    @property
    def action(self) -> str:
        return self.result.action

    @property
    def after(self) -> Oid | None:
        return self.result.after


def remote_names(client: Client) -> list[str]:
    """The git remotes of the repository holding the runs (none for a standalone store)."""
    from gitrun.core.git.cli import run_git_status

    code, out, _ = run_git_status(["remote"], git_dir=client.store.repo.common_dir)
    return out.decode().split() if code == 0 else []


def check_remote(client: Client, remote: str) -> None:
    """Refuse a bare word that is not a configured remote (a typo), before any network
    call: git's own message for it ("does not appear to be a git repository") misleads.

    Raises:
        GitrunError: ``remote`` looks like a remote name but no remote has it.
    """
    import os

    if not _REMOTE_NAME.match(remote) or os.path.exists(remote):
        return  # a URL or a path: git will tell what is wrong with it
    names = remote_names(client)
    if remote in names:
        return
    known = f"remotes here: {', '.join(names)}" if names else "this repository has no remote"
    raise GitrunError(
        f"no git remote named '{remote}' ({known}); add one with `git remote add {remote} URL`, "
        "or give a URL or a path"
    )


def _plain_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Warnings raised while sharing, as plain ``gitrun: ...`` lines on stderr (a hook
    must not print Python's "file.py:123: UserWarning" form)."""
    for item in caught:
        text = str(item.message)
        sys.stderr.write((text if text.startswith("gitrun") else f"gitrun: {text}") + "\n")


def push(client: Client, remote: str) -> SyncReport:
    """Push this repository's runs (and first their artifacts) to ``remote``."""
    from gitrun.tracking import artifact_sync

    check_remote(client, remote)
    store = client.store
    store.runs.flush()
    uploaded: list[tuple[int, int]] = []

    def before_push(local: Oid, remote_tip: Oid | None) -> None:
        # Always imported and called: records must never be pushed without their artifacts.
        artifact_sync.upload_for_records(client, local, remote_tip)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tip = store.records.tip()
        if tip is not None:
            # Also what earlier pushes left behind (no artifact remote then, or offline).
            uploaded.append(artifact_sync.upload_pending(client, tip))
        result = sync.push(store.records, remote, before_push)
        registry_sync.push(store.repo, remote)  # after the runs its versions point at
    _plain_warnings(caught)
    runs = _pushed_runs(store.repo, result)
    return SyncReport(result, runs, sum(n for n, _ in uploaded), sum(b for _, b in uploaded))


def fetch(client: Client, remote: str) -> SyncReport:
    """Fetch ``remote``'s runs and merge them with the local ones."""
    check_remote(client, remote)
    store = client.store
    store.runs.flush()
    result = sync.fetch(store.records, remote)
    registry_sync.fetch(store.repo, remote)
    return SyncReport(result, changed_run_count(store.repo, result.before, result.after))


def nothing_to_push(client: Client, remote: str) -> bool:
    """True when the remote, as last seen, holds exactly our runs (a cheap local check)."""
    store = client.store
    return sync.in_sync(store.records, remote) and registry_sync.in_sync(store.repo, remote)


def _pushed_runs(repo: Repository, result: sync.SyncResult) -> int:
    if result.action not in ("pushed", "created") or result.remote_tip is None:
        return 0
    # The new remote state's first parent is the remote's previous state; a first push
    # ("created") has none (its only parent is the local commit it was built from).
    parents = repo.read_commit(result.remote_tip).parents
    before = parents[0] if result.action == "pushed" and parents else None
    return changed_run_count(repo, before, result.remote_tip)


def changed_run_count(repo: Repository, old: Oid | None, new: Oid | None) -> int:
    """How many runs differ between two records commits (new, changed or deleted)."""
    if new is None or old == new:
        return 0
    return sum(
        1 for _ in changes.changed_runs(repo, changes.runs_tree(repo, old), changes.runs_tree(repo, new))
    )
