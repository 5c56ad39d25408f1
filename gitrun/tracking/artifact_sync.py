"""Artifacts before records: what ``gitrun push`` calls before it pushes the records ref.

:func:`upload_for_records` finds the runs whose ``artifacts.yaml`` changed between
the records tip the remote has and the one about to be pushed (descending only into
trees whose ids differ, so its cost follows what changed, not the number of runs),
and uploads the objects they reference that the artifact remote lacks.  A record is
never pushed before the objects it references are in the shared store.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.view import REFERENCE_FILES, parse_entries
from gitrun.core.git.objects import MODE_TREE, Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.errors import GitrunError
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.artifacts.transfer import TransferReport, push_referenced
from gitrun.tracking.client import Client


def _runs_tree(repo: Repository, commit: Oid | None) -> Oid | None:
    if commit is None:
        return None
    entry = repo.lookup(repo.read_commit(commit).tree, layout.RUNS_DIR)
    return entry.oid if entry is not None else None


def changed_artifact_files(
    repo: Repository, new: Oid | None, old: Oid | None, depth: int = 0
) -> Iterator[Oid]:
    """Blob ids of the reference files (``artifacts.yaml``, ``inputs.yaml``) under runs
    tree ``new`` that ``old`` lacks."""
    if new is None or new == old:
        return
    before = repo.read_tree(old) if old is not None else {}
    for name, entry in repo.read_tree(new).items():
        previous = before.get(name)
        if previous is not None and previous.oid == entry.oid:
            continue
        if depth < layout.FANOUT_DEPTH:
            if entry.mode == MODE_TREE:
                old_sub = previous.oid if previous is not None and previous.mode == MODE_TREE else None
                yield from changed_artifact_files(repo, entry.oid, old_sub, depth + 1)
            continue
        if entry.mode != MODE_TREE:
            continue
        files = repo.read_tree(entry.oid)
        old_files = (
            repo.read_tree(previous.oid) if previous is not None and previous.mode == MODE_TREE else {}
        )
        for file_name in REFERENCE_FILES:
            found, was = files.get(file_name), old_files.get(file_name)
            if found is not None and (was is None or was.oid != found.oid):
                yield found.oid


def upload_for_records(client: Client, local: Oid, remote_tip: Oid | None) -> None:
    """Upload the objects referenced by runs that changed between ``remote_tip`` and ``local``.

    Raises:
        GitrunError: referenced objects are in no store (the records are not pushed).
    """
    store = client.store
    repo = store.repo
    digests: set[Digest] = set()
    manifests: set[Digest] = set()
    for oid in set(changed_artifact_files(repo, _runs_tree(repo, local), _runs_tree(repo, remote_tip))):
        for entry in parse_entries(store.records.load_yaml(oid, "artifact references")).values():
            digests.add(entry.digest)
            if entry.is_dir:
                manifests.add(entry.digest)
    if not digests:
        return
    stores = stores_for(store)
    if stores.config.remote is None:
        warnings.warn(
            "gitrun: pushed runs reference artifacts but no artifact remote is configured, so others "
            "cannot download them (gitrun config artifacts.remote URL)",
            stacklevel=2,
        )
        return
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
