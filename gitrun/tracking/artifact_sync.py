"""Artifacts before records: what ``gitrun push`` calls before it pushes the records ref.

:func:`upload_for_records` finds the runs whose ``artifacts.yaml`` changed between
the records tip the remote has and the one about to be pushed (descending only into
trees whose ids differ, so its cost follows what changed, not the number of runs),
and uploads the objects they reference that the artifact remote lacks.  A record is
never pushed before the objects it references are in the shared store.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Iterator

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.view import REFERENCE_FILES, parse_entries
from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import changes
from gitrun.errors import GitrunError
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.artifacts.transfer import TransferReport, push_referenced
from gitrun.tracking.client import Client


def changed_artifact_files(repo: Repository, new: Oid | None, old: Oid | None) -> Iterator[Oid]:
    """Blob ids of the reference files (``artifacts.yaml``, ``inputs.yaml``) under runs
    tree ``new`` that ``old`` lacks."""
    for _, old_run, new_run in changes.changed_runs(repo, old, new):
        if new_run is None:
            continue
        files = repo.read_tree(new_run)
        old_files = repo.read_tree(old_run) if old_run is not None else {}
        for file_name in REFERENCE_FILES:
            found, was = files.get(file_name), old_files.get(file_name)
            if found is not None and (was is None or was.oid != found.oid):
                yield found.oid


MARKER_FILE = "artifacts-uploaded.json"
"""In ``<git dir>/gitrun/``: per artifact remote URL, the ``runs/`` tree whose referenced
objects are all known to be in that remote.  A remote configured after runs were
pushed (or unreachable when they were) has no entry, or an older one, so the next
push uploads what those runs reference."""


def _marker_path(repo: Repository) -> str:
    return os.path.join(repo.gitrun_dir, MARKER_FILE)


def _read_markers(repo: Repository) -> dict[str, str]:
    try:
        with open(_marker_path(repo), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_marker(repo: Repository, url: str, runs_tree: Oid) -> None:
    markers = _read_markers(repo)
    markers[url] = str(runs_tree)
    os.makedirs(repo.gitrun_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=repo.gitrun_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(markers, fh, sort_keys=True)
    os.replace(tmp, _marker_path(repo))


def _uploaded_tree(repo: Repository, url: str) -> Oid | None:
    """The marker of ``url``, if its tree is still readable here (else: check every run)."""
    found = _read_markers(repo).get(url)
    if found is None or not repo.odb.contains(Oid(found)):
        return None
    return Oid(found)


def upload_pending(client: Client, local: Oid) -> tuple[int, int]:
    """Upload what every run up to records commit ``local`` references and the artifact
    remote may lack: runs changed since the last complete upload to that remote (all
    runs the first time).  ``(objects uploaded, bytes)``; nothing without a remote.

    Raises:
        GitrunError: referenced objects are in no store.
    """
    store = client.store
    stores = stores_for(store)
    url = stores.config.remote
    if url is None:
        return 0, 0
    repo = store.repo
    new = changes.runs_tree(repo, local)
    if new is None:
        return 0, 0
    report = _upload(client, new, _uploaded_tree(repo, url))
    _write_marker(repo, url, new)
    return (len(report.copied), report.bytes) if report is not None else (0, 0)


def upload_for_records(client: Client, local: Oid, remote_tip: Oid | None) -> None:
    """Upload the objects referenced by runs that changed between ``remote_tip`` and ``local``.

    Raises:
        GitrunError: referenced objects are in no store (the records are not pushed).
    """
    repo = client.store.repo
    stores = stores_for(client.store)
    new = changes.runs_tree(repo, local)
    url = stores.config.remote
    base = changes.runs_tree(repo, remote_tip)
    if url is not None:
        known = _uploaded_tree(repo, url)
        base = known if known is not None else None
    _upload(client, new, base)
    if url is not None and new is not None:
        _write_marker(repo, url, new)


def _upload(client: Client, new: Oid | None, old: Oid | None) -> TransferReport | None:
    store = client.store
    repo = store.repo
    digests: set[Digest] = set()
    manifests: set[Digest] = set()
    for oid in set(changed_artifact_files(repo, new, old)):
        for entry in parse_entries(store.records.load_yaml(oid, "artifact references")).values():
            digests.add(entry.digest)
            if entry.is_dir:
                manifests.add(entry.digest)
    if not digests:
        return None
    stores = stores_for(store)
    if stores.config.remote is None:
        warnings.warn(
            "gitrun: pushed runs reference artifacts but no artifact remote is configured, so others "
            "cannot download them (gitrun config artifacts.remote URL; the next push uploads them)",
            stacklevel=2,
        )
        return None
    for digest in manifests:
        try:
            digests.update(e.digest for e in stores.manifest(digest).entries)
        except GitrunError:
            pass  # reported as missing below
    report: TransferReport = push_referenced(store, digests)
    if report.missing:
        shown = ", ".join(str(d) for d in report.missing[:3])
        raise GitrunError(
            f"runs reference artifact objects that are in no store ({shown}"
            f"{' ...' if len(report.missing) > 3 else ''}); records were not pushed. "
            "Run `gitrun fsck`, or log the artifacts again"
        )
    return report
