"""Sharing runs between machines: artifacts to the shared store, records through git.

Artifacts are uploaded and confirmed *before* the records that reference them are
pushed, so a teammate never fetches a run whose artifacts the shared store lacks
(the "object does not exist on server" failure of git-lfs).
"""

from __future__ import annotations

from collections.abc import Callable

from gitrun.core.git.objects import Oid
from gitrun.core.records import sync
from gitrun.tracking.client import Client

ArtifactUploader = Callable[[Client, Oid, Oid | None], None]


def _artifact_uploader() -> ArtifactUploader | None:
    try:
        from gitrun.tracking.artifact_sync import upload_for_records
    except ImportError:
        return None
    return upload_for_records


def push(client: Client, remote: str) -> sync.SyncResult:
    """Push this repository's runs (and first their artifacts) to ``remote``."""
    store = client.store
    store.writer.flush()
    uploader = _artifact_uploader()

    def before_push(local: Oid, remote_tip: Oid | None) -> None:
        if uploader is not None:
            uploader(client, local, remote_tip)

    return sync.push(store.records, remote, before_push)


def fetch(client: Client, remote: str) -> sync.SyncResult:
    """Fetch ``remote``'s runs and merge them with the local ones."""
    store = client.store
    store.writer.flush()
    return sync.fetch(store.records, remote)


def nothing_to_push(client: Client, remote: str) -> bool:
    """True when the remote, as last seen, holds exactly our runs (a cheap local check)."""
    return sync.in_sync(client.store.records, remote)


def remote_names(client: Client) -> list[str]:
    """The git remotes of the repository holding the runs (none for a standalone store)."""
    from gitrun.core.git.cli import run_git_status

    code, out, _ = run_git_status(["remote"], git_dir=client.store.repo.common_dir)
    return out.decode().split() if code == 0 else []
