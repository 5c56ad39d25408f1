"""Moving records between repositories through any git remote, in time that follows
what changed, not how many runs there are.

Locally, ``refs/gitrun/records`` holds the whole state (every run) in one tree.  A
remote holds something else: ``refs/gitrun/log``, a linear chain of *patch commits*,
each holding only what one push changed (the new and changed entries of the runs and
experiments that differ, and a list of deleted paths).  This matters at scale: when a
ref moves, git's connectivity checks walk the tree of its old tip.  For a 100k-run
state tree that walk alone took 6-12 s per push or fetch in our measurements
(docs/architecture.md), while a patch tree is as small as the change.

Per remote, two local refs remember where things stand:

* ``refs/gitrun/remotes/<remote>/log``: the remote's log tip as last seen;
* ``refs/gitrun/remotes/<remote>/records``: the remote's state, rebuilt locally by
  applying each patch in order onto the previous state (applying is idempotent).

``fetch`` downloads new patches with ``git fetch-pack`` (plumbing: it does not run
``git fetch``'s whole-repository connectivity walk; every object is read, and so
checked, when its patch is applied), rebuilds the remote's state, and integrates it
into the local ref: fast-forward-like when nothing local changed, else a merge whose
tree is the three-way merge of both sides (:mod:`merge`).  ``push`` fetches first,
sends one patch (the difference between the remote's state and the local one) as a
fast-forward of ``refs/gitrun/log``, and when another pusher won the race, fetches,
integrates and tries again, so concurrent pushers converge with no manual step.
The user's branches are never touched: every git command names its refs explicitly.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitrun.core.git.cli import run_git, run_git_status
from gitrun.core.git.identity import signature
from gitrun.core.git.objects import MODE_BLOB, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits, diff_trees
from gitrun.core.records import layout, merge, yamlfmt
from gitrun.core.records.store import RecordStore
from gitrun.errors import GitCommandError, InvalidRecord, RefConflict, StoreUnavailable

LOG_REF = "refs/gitrun/log"
DELETED_FILE = "gitrun-deleted.yaml"
_MAX_PUSH_ATTEMPTS = 30
_MAX_STATE_ATTEMPTS = 30
# A server's answers when another push updated the ref at the same moment: retry.
_RACES = (
    "failed to update ref",
    "cannot lock ref",
    "reference already exists",
    "incorrect old value",
    "failed to lock",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class SyncResult:
    before: Oid | None
    after: Oid | None
    remote_tip: Oid | None
    action: str  # "up-to-date", "fast-forward", "merged", "pushed", "created"


def _remote_name(remote: str) -> str:
    return remote if _NAME.match(remote) else "url-" + hashlib.sha256(remote.encode()).hexdigest()[:12]


def tracking_ref(remote: str) -> str:
    """The remote's state as rebuilt locally (URLs get a stable short name)."""
    return layout.REMOTE_RECORDS_REF.format(remote=_remote_name(remote))


def log_tracking_ref(remote: str) -> str:
    return f"refs/gitrun/remotes/{_remote_name(remote)}/log"


def _git(repo: Repository, args: list[str], check: bool = True) -> bytes:
    return run_git(args, git_dir=repo.common_dir, check=check)


def is_ancestor(repo: Repository, ancestor: Oid, descendant: Oid) -> bool:
    try:
        run_git(["merge-base", "--is-ancestor", ancestor, descendant], git_dir=repo.common_dir)
        return True
    except GitCommandError as exc:
        if exc.returncode == 1:
            return False
        raise


def merge_base(repo: Repository, a: Oid, b: Oid) -> Oid | None:
    try:
        out = _git(repo, ["merge-base", a, b])
    except GitCommandError as exc:
        if exc.returncode == 1:
            return None  # unrelated histories: merge against an empty base
        raise
    return Oid(out.decode().strip())


def _url(repo: Repository, remote: str) -> str:
    """``git fetch-pack`` wants a URL: resolve a remote's name through git config."""
    code, out, _ = run_git_status(["remote", "get-url", remote], git_dir=repo.common_dir)
    return out.decode().strip() if code == 0 and out.strip() else remote


# -- patches ---------------------------------------------------------------------------------------


def diff_patch(repo: Repository, old: Oid | None, new: Oid) -> tuple[Oid | None, list[str]]:
    """The patch turning tree ``old`` into tree ``new``: a tree of the new and changed
    entries (subtrees that exist on both sides hold only what changed), and the
    deleted paths.  ``(None, [])`` when the trees are equal."""
    found = list(diff_trees(repo, old, new))
    deleted = [change.path for change in found if change.new is None]
    tree = apply_edits(repo, None, {change.path: change.new for change in found if change.new is not None})
    if deleted:
        blob = repo.write_blob(yamlfmt.dump({"deleted": sorted(deleted)}).encode())
        entries = dict(repo.read_tree(tree)) if tree else {}
        entries[DELETED_FILE] = TreeEntry(DELETED_FILE, MODE_BLOB, blob)
        tree = repo.write_tree(entries)
    return tree, deleted


def apply_patch(repo: Repository, state: Oid | None, patch: Oid) -> Oid:
    """Overlay a patch tree onto a state tree (idempotent: applying twice changes nothing)."""

    def overlay(base: Oid | None, top: Oid) -> Oid:
        entries = dict(repo.read_tree(base)) if base else {}
        for name, entry in repo.read_tree(top).items():
            current = entries.get(name)
            if entry.is_tree and current is not None and current.is_tree:
                entries[name] = TreeEntry(name, entry.mode, overlay(current.oid, entry.oid))
            else:
                entries[name] = entry
        return repo.write_tree(entries)

    top = repo.read_tree(patch)
    deleted: list[str] = []
    if DELETED_FILE in top:
        data = yamlfmt.load(repo.read_blob(top[DELETED_FILE].oid), DELETED_FILE)
        deleted = list(data.get("deleted", [])) if isinstance(data, dict) else []
        patch = repo.write_tree({k: v for k, v in top.items() if k != DELETED_FILE})
    tree = overlay(state, patch)
    if deleted:
        tree = apply_edits(repo, tree, dict.fromkeys(deleted)) or repo.write_tree({})
    return tree


# -- fetching --------------------------------------------------------------------------------------


def _fetch_log(repo: Repository, remote: str) -> Oid | None:
    """Download the remote's log (objects only); its tip, or None if it has no runs."""
    return _fetch_ref(repo, remote, LOG_REF)


def _fetch_ref(repo: Repository, remote: str, ref_name: str) -> Oid | None:
    """Download one ref's objects from the remote; its value, or None if it has no such ref."""
    code, out, err = run_git_status(
        ["fetch-pack", "--no-progress", _url(repo, remote), ref_name], git_dir=repo.common_dir
    )
    for line in out.decode().splitlines():
        oid, _, ref = line.partition(" ")
        if ref.strip() == ref_name:
            return Oid(oid)
    text = err.decode("utf-8", "replace")
    missing = ("no matching remote head", "no such remote ref", "couldn't find remote ref")
    if code == 0 or any(words in text for words in missing):
        return None
    raise StoreUnavailable(f"cannot fetch runs from {remote!r}: {text.strip()}")


def _log_since(repo: Repository, tip: Oid, seen: Oid | None) -> list[Oid] | None:
    """Log commits after ``seen`` up to ``tip``, oldest first; None if ``seen`` is not in it."""
    chain: list[Oid] = []
    current: Oid | None = tip
    while current is not None and current != seen:
        chain.append(current)
        parents = repo.read_commit(current).parents
        current = parents[0] if parents else None
    if seen is not None and current != seen:
        return None  # the remote's log was rewritten: rebuild its state from the start
    return chain[::-1]


def remote_state(store: RecordStore, remote: str) -> tuple[Oid | None, Oid | None]:
    """Fetch the remote's log and bring its locally rebuilt state up to date.

    Returns ``(log tip, state commit)``; both None when the remote holds no runs.
    """
    repo = store.repo
    tip = _fetch_log(repo, remote)
    if tip is None:
        return None, None
    for _attempt in range(_MAX_STATE_ATTEMPTS):
        new_state = _rebuild_state(store, remote, tip)
        if new_state is not None:
            return tip, new_state
    raise RefConflict(
        f"could not record the runs of {remote!r}: other processes kept moving {tracking_ref(remote)}"
    )


def _rebuild_state(store: RecordStore, remote: str, tip: Oid) -> Oid | None:
    """One attempt: apply the log since the last seen tip; None when another process
    moved the tracking refs in the meantime (they are compare-and-swapped, never
    overwritten: the caller re-reads and tries again)."""
    repo = store.repo
    state_ref, log_ref = tracking_ref(remote), log_tracking_ref(remote)
    state, seen = repo.refs.read(state_ref), repo.refs.read(log_ref)
    if tip == seen and state is not None:
        return state
    chain = _log_since(repo, tip, seen)
    if chain is None or state is None:
        chain, parent = _log_since(repo, tip, None) or [], None
    else:
        parent = state
    tree = repo.read_commit(parent).tree if parent else None
    for patch_commit in chain:
        tree = apply_patch(repo, tree, repo.read_commit(patch_commit).tree)
    if tree is None:
        raise InvalidRecord(f"the runs log of {remote!r} is empty")
    who = str(signature(repo.common_dir))
    new_state = repo.write_commit(
        Commit(tree, (parent,) if parent else (), who, who, f"gitrun: runs of {remote} at log {tip}\n")
    )
    # The state first: a rerun re-applies idempotently.  The log ref only after it, so
    # it never claims more of the log than the state holds.
    if not repo.refs.compare_and_swap(state_ref, state, new_state, "gitrun: fetch"):
        return None
    if not repo.refs.compare_and_swap(log_ref, seen, tip, "gitrun: fetch"):
        return None
    return new_state


def records_without_log(store: RecordStore, remote: str) -> Oid | None:
    """The remote's ``refs/gitrun/records`` when it has runs but no log: a
    ``git clone --mirror`` of someone's repository, or that repository itself."""
    return _fetch_ref(store.repo, remote, store.ref)


def fetch(store: RecordStore, remote: str) -> SyncResult:
    """Fetch the remote's runs and integrate them into the local ref."""
    before = store.tip()
    _, state = remote_state(store, remote)
    if state is None:
        state = records_without_log(store, remote)
    if state is None:
        return SyncResult(before, before, None, "up-to-date")
    after, action = integrate(store, state)
    return SyncResult(before, after, state, action)


def integrate(store: RecordStore, theirs: Oid) -> tuple[Oid, str]:
    """Make the local records ref contain the state ``theirs`` (compare-and-swap, retried)."""
    repo = store.repo
    for _attempt in range(100):
        ours = store.tip()
        if ours is None:
            if repo.refs.compare_and_swap(store.ref, None, theirs):
                return theirs, "fast-forward"
            continue
        ours_tree, theirs_tree = repo.read_commit(ours).tree, repo.read_commit(theirs).tree
        if ours == theirs or is_ancestor(repo, theirs, ours):
            return ours, "up-to-date"
        if is_ancestor(repo, ours, theirs):
            if repo.refs.compare_and_swap(store.ref, ours, theirs):
                return theirs, "fast-forward"
            continue
        base = merge_base(repo, ours, theirs)
        base_tree = repo.read_commit(base).tree if base else None
        tree = merge.merge_roots(repo, base_tree, ours_tree, theirs_tree)
        who = str(signature(repo.common_dir))
        commit = repo.write_commit(Commit(tree, (ours, theirs), who, who, "gitrun: merge runs\n"))
        if repo.refs.compare_and_swap(store.ref, ours, commit):
            return commit, "merged" if tree != ours_tree else "up-to-date"
        time.sleep(0.01 * random.random())
    raise RefConflict(f"could not integrate fetched runs into {store.ref}: local writers kept moving it")


# -- pushing ---------------------------------------------------------------------------------------


def in_sync(store: RecordStore, remote: str) -> bool:
    """True when the remote (as last seen) holds exactly the local runs: a local check."""
    local, seen = store.tip(), store.repo.refs.read(tracking_ref(remote))
    if local is None:
        return True
    return seen is not None and store.repo.read_commit(local).tree == store.repo.read_commit(seen).tree


def push(
    store: RecordStore, remote: str, before_push: Callable[[Oid, Oid | None], None] | None = None
) -> SyncResult:
    """Send the local runs to ``remote`` as one patch; on a lost race fetch, integrate, retry.

    ``before_push(local_state, remote_state)`` runs before every attempt, e.g. to upload
    the artifacts the new runs reference, so that nothing is ever pushed that points at
    an object the shared store does not hold yet.
    """
    repo = store.repo
    first = store.tip()
    for attempt in range(_MAX_PUSH_ATTEMPTS):
        log_tip, state = remote_state(store, remote)
        if state is not None:
            integrate(store, state)
        elif attempt == 0:
            # Runs the remote holds outside any log (a mirror): keep them, then the first
            # log patch carries everything.
            legacy = records_without_log(store, remote)
            if legacy is not None:
                integrate(store, legacy)
        local = store.tip()
        if local is None:
            return SyncResult(None, None, state, "up-to-date")
        state_tree = repo.read_commit(state).tree if state else None
        patch, _deleted = diff_patch(repo, state_tree, repo.read_commit(local).tree)
        if patch is None:
            return SyncResult(first, local, state, "up-to-date")
        if before_push is not None:
            before_push(local, state)
        signed = signature(repo.common_dir)
        who = str(signed)
        log_commit = repo.write_commit(
            Commit(patch, (log_tip,) if log_tip else (), who, who, f"gitrun: runs from {signed.person}\n")
        )
        status = _push_once(repo, remote, log_commit)
        if status == "ok":
            new_tree = apply_patch(repo, state_tree, patch)
            # The remote now holds exactly `local`: make it a parent, so that the next
            # merge of the remote's state into the local ref has `local` as its base
            # (with no common ancestor, a tag deleted here would come back).
            new_state = repo.write_commit(
                Commit(
                    new_tree,
                    (state, local) if state else (local,),
                    who,
                    who,
                    f"gitrun: runs of {remote} at log {log_commit}\n",
                )
            )
            # Compare-and-swap from what this push started from: if another process
            # moved the tracking refs meanwhile, keep its work and rebuild from the log.
            if not (
                repo.refs.compare_and_swap(tracking_ref(remote), state, new_state, "gitrun: push")
                and repo.refs.compare_and_swap(log_tracking_ref(remote), log_tip, log_commit, "gitrun: push")
            ):
                _, rebuilt = remote_state(store, remote)
                new_state = rebuilt or new_state
            return SyncResult(first, local, new_state, "pushed" if log_tip else "created")
        time.sleep(min(0.05 * (attempt + 1), 0.5) * random.random())
    raise RefConflict(
        f"could not push runs to {remote!r}: other pushers kept moving it ({_MAX_PUSH_ATTEMPTS} attempts)"
    )


def _push_once(repo: Repository, remote: str, log_commit: Oid) -> str:
    # --no-verify: this push must not run the user's pre-push hook (gitrun's hook would
    # call us again).  --porcelain gives one parsable status line per ref on stdout.
    args = ["push", "--no-verify", "--porcelain", remote, f"{log_commit}:{LOG_REF}"]
    code, out, err = run_git_status(args, git_dir=repo.common_dir)
    text = err.decode("utf-8", "replace")
    for line in out.decode("utf-8", "replace").splitlines():
        if f":{LOG_REF}" not in line:
            continue
        flag = line[:1]
        if flag != "!":
            return "ok"
        if "remote rejected" in line and not any(word in line + text for word in _RACES):
            # Refused by the server itself (a hook, permissions): retrying cannot help.
            reason = " ".join(text.split())
            raise StoreUnavailable(f"{remote!r} refused the runs: {line.split(chr(9))[-1]} {reason}".strip())
        return "retry"  # [rejected] (fetch first / non-fast-forward): someone pushed first
    if code == 0:
        return "ok"
    raise StoreUnavailable(f"cannot push runs to {remote!r}: {text.strip()}")
