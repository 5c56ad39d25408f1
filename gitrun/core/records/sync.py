"""Moving records between repositories through any git remote.

Records travel on one ref.  ``fetch`` brings a remote's ref to
``refs/gitrun/remotes/<remote>/records`` and integrates it into the local ref:
fast-forward when possible, else a merge commit whose tree is the three-way merge of
both sides (runs are unions; a run changed on both sides merges record by record, see
:mod:`merge`).  ``push`` sends the local ref; when the remote moved (someone else
pushed), it fetches, integrates and tries again, so concurrent pushers converge
without a manual step.  The user's branches are never touched: every git command
names its refs explicitly.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitrun.core.git.cli import run_git, run_git_status
from gitrun.core.git.objects import Commit, Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, merge
from gitrun.core.records.store import RecordStore, _identity
from gitrun.errors import GitCommandError, RefConflict, StoreUnavailable

_MAX_PUSH_ATTEMPTS = 30
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


def tracking_ref(remote: str) -> str:
    """Where a remote's records are kept locally (URLs get a stable short name)."""
    name = remote if _NAME.match(remote) else "url-" + hashlib.sha256(remote.encode()).hexdigest()[:12]
    return layout.REMOTE_RECORDS_REF.format(remote=name)


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


def fetch(store: RecordStore, remote: str) -> SyncResult:
    """Fetch the remote's records and integrate them into the local ref."""
    remote_tip = _fetch_ref(store.repo, remote)
    before = store.tip()
    if remote_tip is None:
        return SyncResult(before, before, None, "up-to-date")
    after, action = integrate(store, remote_tip)
    return SyncResult(before, after, remote_tip, action)


def _fetch_ref(repo: Repository, remote: str) -> Oid | None:
    ref = tracking_ref(remote)
    try:
        _git(
            repo,
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                remote,
                f"+{layout.RECORDS_REF}:{ref}",
            ],
        )
    except GitCommandError as exc:
        if "couldn't find remote ref" in exc.output:
            return None  # the remote has no runs yet
        raise StoreUnavailable(f"cannot fetch runs from {remote!r}: {exc.output.strip()}") from None
    return repo.refs.read(ref)


def integrate(store: RecordStore, theirs: Oid) -> tuple[Oid, str]:
    """Make the local records ref contain ``theirs`` (compare-and-swap, retried)."""
    repo = store.repo
    for _attempt in range(100):
        ours = store.tip()
        if ours is None:
            if repo.refs.compare_and_swap(store.ref, None, theirs):
                return theirs, "fast-forward"
            continue
        if ours == theirs or is_ancestor(repo, theirs, ours):
            return ours, "up-to-date"
        if is_ancestor(repo, ours, theirs):
            if repo.refs.compare_and_swap(store.ref, ours, theirs):
                return theirs, "fast-forward"
            continue
        base = merge_base(repo, ours, theirs)
        base_tree = repo.read_commit(base).tree if base else None
        tree = merge.merge_roots(repo, base_tree, repo.read_commit(ours).tree, repo.read_commit(theirs).tree)
        who = f"{_identity()} {int(time.time())} +0000"
        commit = repo.write_commit(Commit(tree, (ours, theirs), who, who, "gitrun: merge runs\n"))
        if repo.refs.compare_and_swap(store.ref, ours, commit):
            return commit, "merged"
        time.sleep(0.01 * random.random())
    raise RefConflict(f"could not integrate fetched runs into {store.ref}: local writers kept moving it")


def push(
    store: RecordStore, remote: str, before_push: Callable[[Oid, Oid | None], None] | None = None
) -> SyncResult:
    """Push the local records; on rejection fetch, integrate and retry.

    ``before_push(local_tip, remote_tip)`` runs before every attempt, e.g. to upload
    the artifacts the new runs reference, so that nothing is ever pushed that points
    at an object the shared store does not hold yet.
    """
    repo = store.repo
    remote_tip = repo.refs.read(tracking_ref(remote))
    first = store.tip()
    for attempt in range(_MAX_PUSH_ATTEMPTS):
        local = store.tip()
        if local is None:
            return SyncResult(None, None, remote_tip, "up-to-date")
        if remote_tip == local:
            return SyncResult(first, local, remote_tip, "up-to-date")
        if before_push is not None:
            before_push(local, remote_tip)
        status = _push_once(repo, remote, local, remote_tip)
        if status == "ok":
            # Remember what the remote now holds, as git does for remote-tracking refs.
            _git(repo, ["update-ref", tracking_ref(remote), local])
            return SyncResult(first, local, local, "pushed" if remote_tip else "created")
        if status == "up-to-date":
            return SyncResult(first, local, local, "up-to-date")
        # Someone else pushed first: take their runs in and try again.
        remote_tip = _fetch_ref(repo, remote)
        if remote_tip is not None:
            integrate(store, remote_tip)
        time.sleep(min(0.05 * (attempt + 1), 0.5) * random.random())
    raise RefConflict(
        f"could not push runs to {remote!r}: other pushers kept moving it ({_MAX_PUSH_ATTEMPTS} attempts)"
    )


def _push_once(repo: Repository, remote: str, local: Oid, remote_tip: Oid | None) -> str:
    # --no-verify: this push must not run the user's pre-push hook (gitrun's hook would
    # call us again).  --porcelain gives one parsable status line per ref on stdout.
    args = ["push", "--no-verify", "--porcelain", remote, f"{local}:{layout.RECORDS_REF}"]
    code, out, err = run_git_status(args, git_dir=repo.common_dir)
    for line in out.decode("utf-8", "replace").splitlines():
        if f":{layout.RECORDS_REF}" not in line:
            continue
        flag = line[:1]
        if flag == "=":
            return "up-to-date"
        if flag != "!":
            return "ok"
        if "remote rejected" in line and not any(
            word in line + err.decode("utf-8", "replace") for word in _RACES
        ):
            # Refused by the server itself (a hook, permissions): retrying cannot help.
            reason = " ".join(err.decode("utf-8", "replace").split())
            raise StoreUnavailable(f"{remote!r} refused the runs: {line.split(chr(9))[-1]} {reason}".strip())
        return "retry"  # [rejected] (fetch first / non-fast-forward): someone pushed first
    if code == 0:
        return "ok"
    text = err.decode("utf-8", "replace").strip()
    raise StoreUnavailable(f"cannot push runs to {remote!r}: {text}")
