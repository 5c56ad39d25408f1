"""Sharing the registry ref through a git remote (called by ``gitrun push``/``fetch``).

The registry is small (one file per version), so it moves as a plain ref:
``fetch`` downloads the remote's ``refs/gitrun/registry`` with ``git fetch-pack``,
remembers it as ``refs/gitrun/remotes/<remote>/registry`` and integrates it
(fast-forward, or a merge commit whose tree is :func:`.merge.merge` of both sides
and whose message lists every decision that overrode one side); ``push`` fetches
first, then fast-forwards the remote's ref, and on a lost race fetches and tries
again.  Both sides of a conflict stay in the history as the merge's parents.
"""

from __future__ import annotations

import random
import time

from gitrun.core.git.cli import run_git_status
from gitrun.core.git.objects import Commit, Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records.sync import _remote_name, _url, is_ancestor, merge_base
from gitrun.core.registry import layout, merge, state
from gitrun.core.registry.store import RegistryStore, identity
from gitrun.errors import RefConflict, StoreUnavailable

_MAX_ATTEMPTS = 30


def tracking_ref(remote: str) -> str:
    return layout.REMOTE_REGISTRY_REF.format(remote=_remote_name(remote))


def in_sync(repo: Repository, remote: str) -> bool:
    """True when the remote, as last seen, has the local registry (a local check, no network)."""
    local = repo.refs.read(layout.REGISTRY_REF)
    return local is None or local == repo.refs.read(tracking_ref(remote))


def _fetch(repo: Repository, remote: str) -> Oid | None:
    seen = repo.refs.read(tracking_ref(remote))
    code, out, err = run_git_status(
        ["fetch-pack", "--no-progress", _url(repo, remote), layout.REGISTRY_REF], git_dir=repo.common_dir
    )
    for line in out.decode().splitlines():
        oid, _, ref = line.partition(" ")
        if ref.strip() == layout.REGISTRY_REF:
            # Compare-and-swap: a concurrent fetch's value is as recent as ours; keep it.
            if seen != oid:
                repo.refs.compare_and_swap(tracking_ref(remote), seen, Oid(oid), "gitrun: fetch")
            return Oid(oid)
    text = err.decode("utf-8", "replace")
    if code == 0 or any(
        w in text for w in ("no matching remote head", "no such remote ref", "couldn't find remote ref")
    ):
        return None
    raise StoreUnavailable(f"cannot fetch the model registry from {remote!r}: {text.strip()}")


def integrate(store: RegistryStore, theirs: Oid, remote: str) -> str:
    """Make the local registry contain ``theirs``: ``up-to-date``, ``fast-forward`` or ``merged``."""
    repo = store.repo
    for _attempt in range(100):
        ours = store.tip()
        if ours is None:
            if repo.refs.compare_and_swap(store.ref, None, theirs):
                return "fast-forward"
            continue
        if ours == theirs or is_ancestor(repo, theirs, ours):
            return "up-to-date"
        if is_ancestor(repo, ours, theirs):
            if repo.refs.compare_and_swap(store.ref, ours, theirs):
                return "fast-forward"
            continue
        base = merge_base(repo, ours, theirs)
        merged, notes = merge.merge(store.read(base) if base else {}, store.read(ours), store.read(theirs))
        tree = state.write(repo, merged)
        message = f"gitrun: merge model registry of {remote}\n"
        if notes:
            message += "\n" + "".join(f"- {note}\n" for note in notes)
        ident = identity(repo)
        commit = repo.write_commit(Commit(tree, (ours, theirs), ident, ident, message))
        if repo.refs.compare_and_swap(store.ref, ours, commit):
            return "merged"
        time.sleep(0.01 * random.random())
    raise RefConflict("could not merge the fetched model registry: local writers kept moving it")


def fetch(repo: Repository, remote: str) -> str:
    """Fetch and integrate the remote's registry; what happened (``none`` when it has none)."""
    theirs = _fetch(repo, remote)
    if theirs is None:
        return "none"
    return integrate(RegistryStore(repo), theirs, remote)


def push(repo: Repository, remote: str) -> str:
    """Send the local registry to ``remote`` (after integrating the remote's); what happened."""
    store = RegistryStore(repo)
    for attempt in range(_MAX_ATTEMPTS):
        theirs = _fetch(repo, remote)
        if theirs is not None:
            integrate(store, theirs, remote)
        local = store.tip()
        if local is None:
            return "none"
        if local == theirs:
            return "up-to-date"
        seen = repo.refs.read(tracking_ref(remote))
        args = ["push", "--no-verify", "--porcelain", remote, f"{local}:{layout.REGISTRY_REF}"]
        code, out, err = run_git_status(args, git_dir=repo.common_dir)
        lines = [
            line for line in out.decode("utf-8", "replace").splitlines() if f":{layout.REGISTRY_REF}" in line
        ]
        if (lines and not lines[0].startswith("!")) or (not lines and code == 0):
            if seen != local:
                repo.refs.compare_and_swap(tracking_ref(remote), seen, local, "gitrun: push")
            return "pushed"
        if not lines:
            raise StoreUnavailable(
                f"cannot push the model registry to {remote!r}: {err.decode('utf-8', 'replace').strip()}"
            )
        time.sleep(min(0.05 * (attempt + 1), 0.5) * random.random())
    raise RefConflict(f"could not push the model registry to {remote!r}: other pushers kept moving it")
