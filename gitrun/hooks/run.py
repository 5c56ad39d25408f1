"""What gitrun's hooks do when git runs them."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from gitrun.errors import GitrunError
from gitrun.tracking.repository import run_git


def _git(args: list[str]) -> bytes:
    """Run git on the repository the hook runs for, found as git finds it (git may
    have exported ``GIT_DIR`` into the hook; ``run_git`` drops inherited variables)."""
    from gitrun.tracking.repository import discover

    found = discover(os.getcwd())
    return run_git(args, git_dir=found.git_dir if found else None, check=False)


def _strict() -> bool:
    try:
        value = _git(["config", "--bool", "--get", "gitrun.strictHooks"]).decode().strip()
    except GitrunError:
        return False
    return value == "true"


def _fail(hook: str, exc: BaseException) -> int:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    print(f"gitrun: {hook} hook: {message}", file=sys.stderr)
    if _strict():
        print("gitrun: blocking (git config gitrun.strictHooks is true)", file=sys.stderr)
        return 1
    print("gitrun: continuing anyway; `gitrun push` retries later", file=sys.stderr)
    return 0


def pushes_only_gitrun_refs(lines: Iterable[str]) -> bool:
    """pre-push stdin: ``<local ref> <local sha> <remote ref> <remote sha>`` per ref."""
    refs = [line.split() for line in lines if line.strip()]
    return bool(refs) and all(len(r) == 4 and r[2].startswith("refs/gitrun/") for r in refs)


def deletes_shared_runs(lines: Iterable[str]) -> list[str]:
    """The remote's gitrun refs a push would delete (``git push origin :refs/gitrun/log``).
    ``git push --mirror`` deletes them too, but git lists no line for its deletions."""
    refs = [line.split() for line in lines if line.strip()]
    return [r[2] for r in refs if len(r) == 4 and r[2].startswith("refs/gitrun/") and not r[1].strip("0")]


def pre_push(remote: str, stdin_lines: list[str]) -> int:
    """Push runs and their artifacts along with the user's ``git push``."""
    doomed = deletes_shared_runs(stdin_lines)
    if doomed:
        # Blocked whatever gitrun.strictHooks says: this would lose every run shared there.
        print(
            f"gitrun: this push would delete {', '.join(doomed)} on {remote}, where everyone's runs are "
            "shared. Bypass this check with `git push --no-verify` if you mean it.",
            file=sys.stderr,
        )
        return 1
    if pushes_only_gitrun_refs(stdin_lines):
        return 0
    try:
        from gitrun.tracking import sharing
        from gitrun.tracking.client import Client

        client = Client()
        if sharing.nothing_to_push(client, remote):
            return 0
        result = sharing.push(client, remote)
        print(f"gitrun: runs {result.action} on {remote}", file=sys.stderr)
        return 0
    except Exception as exc:  # noqa: BLE001 - a hook must explain, never crash the push
        return _fail("pre-push", exc)


def post_commit() -> int:
    """Link runs recorded on an uncommitted tree to the commit that now holds that code."""
    try:
        from gitrun.tracking import linking
        from gitrun.tracking.client import Client
        from gitrun.tracking.entities import ViewType
        from gitrun.tracking.search import search_runs

        client = Client()
        repo = client.store.repo
        head = repo.head_commit()
        if head is None:
            return 0
        tree = repo.read_commit(head).tree
        if tree not in linking.unlinked(repo):
            return 0  # no run waits for this code
        experiments = [e.experiment_id for e in client.store.list_experiments()]
        matches = search_runs(
            client.store,
            experiments,
            filter_string=f"tags.`gitrun.git.tree` = '{tree}'",
            run_view_type=ViewType.ALL,
            max_results=50000,
        )
        linked = 0
        for run in matches:
            if run.data.tags.get("mlflow.source.git.commit") == head:
                continue
            client.set_tag(run.info.run_id, "mlflow.source.git.commit", head)
            client.set_tag(run.info.run_id, "gitrun.git.linked_commit", head)
            linked += 1
        if linked:
            client.flush()
            print(f"gitrun: {linked} run(s) now point at commit {head[:12]}", file=sys.stderr)
        linking.forget(client.store.repo, tree)
        return 0
    except Exception as exc:  # noqa: BLE001 - a hook must explain, never crash the commit
        return _fail("post-commit", exc)


def opted_in() -> bool:
    """Did this repository ask for gitrun's hooks?  ``gitrun hooks install`` sets
    ``gitrun.hooks``; hooks installed before that setting existed sit in the
    repository's own hooks folder, which only this repository runs."""
    try:
        value = _git(["config", "--bool", "--get", "gitrun.hooks"]).decode().strip()
        if value:
            return value == "true"
        scope = _git(["config", "--show-scope", "--get", "core.hooksPath"]).decode()
    except GitrunError:
        return False
    return scope.split("\t", 1)[0].strip() in ("", "local", "worktree")


def main(argv: list[str], *, require_opt_in: bool = False) -> int:
    """Run one hook.  The shims pass ``require_opt_in``: a hooks folder shared by every
    repository (a global ``core.hooksPath``) must not act in those that did not ask."""
    if not argv:
        print("usage: python -m gitrun.hooks {pre-push REMOTE URL | post-commit}", file=sys.stderr)
        return 2
    hook, args = argv[0], argv[1:]
    if require_opt_in and not opted_in():
        return 0
    if hook == "pre-push":
        lines = [] if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read().splitlines()
        remote = args[0] if args else os.environ.get("PRE_COMMIT_REMOTE_NAME", "origin")
        return pre_push(remote, lines)
    if hook == "post-commit":
        return post_commit()
    print(f"gitrun: unknown hook {hook!r}", file=sys.stderr)
    return 2
