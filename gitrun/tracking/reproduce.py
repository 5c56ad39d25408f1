"""Reproducing a run: its exact code in a new worktree, its params, inputs and command.

The user's own work tree, index and branches are never touched: the run's code tree
(its commit plus every uncommitted change, recorded at start) becomes a commit with the
original commit as parent, checked out with ``git worktree add --detach`` in a new
folder.  ``git diff HEAD~1`` there shows exactly what was uncommitted.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.cli import run_git
from gitrun.core.git.identity import signature
from gitrun.core.git.objects import Commit, Oid
from gitrun.core.records import layout
from gitrun.core.records.text import captured_str, decode_captured
from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client

SIDECAR = ".gitrun-reproduce"


@dataclass
class Checkout:
    run: ent.Run
    directory: str
    commit: Oid
    base_commit: str | None
    cwd: str
    command: list[str] | None
    environment_changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)


def _default_directory(client: Client, run_id: str) -> str:
    location = client.store.location.path
    parent = os.path.dirname(location.rstrip(os.sep))
    name = os.path.basename(location.rstrip(os.sep)).removesuffix(".git") or "run"
    return os.path.join(parent, f"{name}-run-{run_id[:8]}")


def checkout(client: Client, run_id: str, directory: str | None = None) -> Checkout:
    """Create a worktree holding the run's exact code, params and inputs."""
    run = client.get_run(run_id)
    code = run.record.get("code")
    if not code or not code.get("tree"):
        raise GitrunError(f"run {run_id} recorded no code (it was not started inside a git work tree)")
    repo = client.store.repo
    tree = Oid(code["tree"])
    if not repo.odb.contains(tree):
        raise GitrunError(f"the code of run {run_id} (tree {tree}) is missing from {repo.common_dir}")
    base = code.get("commit")
    parents = (Oid(base),) if base and repo.odb.contains(Oid(base)) else ()
    who = str(signature(repo.common_dir))
    message = f"gitrun: code of run {run_id}\n\nRecorded on top of {base or '(no commit)'}"
    commit = repo.write_commit(Commit(tree, parents, who, who, message + "\n"))
    target = os.path.abspath(directory or _default_directory(client, run_id))
    if os.path.exists(target) and os.listdir(target):
        raise InvalidParameterValue(f"{target} exists and is not empty: choose another --dir")
    run_git(["worktree", "add", "--detach", "--quiet", target, commit], git_dir=repo.common_dir)
    if repo.lookup(tree, ".gitmodules") is not None:
        _populate_submodules(target, repo.common_dir)
    checkout = Checkout(run, target, commit, base, target, recorded_command(run))
    checkout.cwd = _mapped_cwd(run, target)
    _write_sidecar(client, checkout)
    _restore_inputs(client, checkout)
    checkout.environment_changes = environment_changes(client, run_id)
    return checkout


def _populate_submodules(target: str, common_dir: str) -> None:
    """Check out each submodule at the commit the run recorded (``git worktree add``
    leaves their folders empty).  A submodule this repository already has (its git dir
    under ``modules/``, which holds any commit made in it locally) is cloned from
    there, so nothing needs the network."""
    from gitrun.core.git.cli import run_git_status

    code, out, _ = run_git_status(
        ["config", "-z", "-f", ".gitmodules", "--get-regexp", r"^submodule\..*\.path$"], cwd=target
    )
    overrides: list[str] = []
    names = [
        item.split("\n", 1)[0][len("submodule.") : -len(".path")] for item in out.decode().split("\0") if item
    ]
    for name in names:
        local = os.path.join(common_dir, "modules", name)
        if os.path.isdir(local):
            overrides += ["-c", f"submodule.{name}.url={local}"]
    if names and len(overrides) == 2 * len(names):
        overrides += ["-c", "protocol.file.allow=always"]  # only our own local clones
    code, _, err = run_git_status(
        [*overrides, "submodule", "update", "--init", "--recursive", "--quiet"], cwd=target
    )
    if code != 0:
        import warnings

        warnings.warn(
            f"gitrun: the run's submodules could not be checked out in {target} (run `git submodule "
            f"update --init --recursive` there once they can be fetched): {err.decode('utf-8', 'replace')}",
            stacklevel=3,
        )


def _mapped_cwd(run: ent.Run, target: str) -> str:
    cwd, _ = recorded_position(run)
    return os.path.join(target, cwd) if cwd else target


def recorded_position(run: ent.Run) -> tuple[str | None, str | None]:
    """The run's working directory and script relative to its work tree's root (None:
    outside it, or not known).  A path that would leave the worktree is ignored: a
    record may come from anyone."""
    code = run.record.get("code") or {}
    if not isinstance(code, dict):
        return None, None
    if "root" in code and not ("cwd" in code or "entry_point" in code):
        cwd, entry = _position_from_root(run, code)
    else:
        cwd, entry = captured_str(code.get("cwd")), captured_str(code.get("entry_point"))
    return _inside_worktree(cwd), _inside_worktree(entry)


def _position_from_root(run: ent.Run, code: dict[str, Any]) -> tuple[str | None, str | None]:
    """Records written before the relative ``cwd``/``entry_point`` held the recording
    machine's absolute work-tree ``root``: the same position, from it and ``source``."""
    root = captured_str(code.get("root"))
    source = run.record.get("source") or {}
    if not root or not isinstance(source, dict):
        return None, None
    found: list[str | None] = []
    for path in (captured_str(source.get("cwd")), captured_str(source.get("entry_point"))):
        inside = path is not None and (path == root or path.startswith(root + os.sep))
        found.append(os.path.relpath(path, root) if inside and path is not None else None)
    return found[0], found[1]


def _inside_worktree(path: str | None) -> str | None:
    if not path or os.path.isabs(path) or os.path.normpath(path).split(os.sep)[0] == os.pardir:
        return None
    return os.path.normpath(path)


def recorded_command(run: ent.Run) -> list[str] | None:
    """How the run was started, as argv to run in its checked-out code (None: not known)."""
    # Recorded exactly, bytes that are not UTF-8 included (core.records.text).
    command = decode_captured(run.record.get("command"))
    if command and isinstance(command, list):
        return [str(a) for a in command]
    source = run.record.get("source") or {}
    if not isinstance(source, dict):
        return None
    argv = decode_captured(source.get("argv"))
    argv = [str(a) for a in argv] if isinstance(argv, list) else []
    entry = captured_str(source.get("entry_point"))
    if not argv or not entry or argv[0] in ("-c", "-m", ""):
        return None
    cwd, script = recorded_position(run)
    if script is not None:
        # The command runs in the worktree's copy of the original working directory
        # (see _mapped_cwd): name the script relative to that folder, as it was run.
        script = os.path.relpath(script, cwd) if cwd else script
    else:
        script = argv[0]
    return ["python", script, *argv[1:]]


def _write_sidecar(client: Client, checkout: Checkout) -> None:
    folder = os.path.join(checkout.directory, SIDECAR)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "params.json"), "w", encoding="utf-8") as fh:
        json.dump(checkout.run.data.params, fh, indent=2, sort_keys=True)
    env = recorded_environment(client, checkout.run.info.run_id)
    packages, refused = requirement_lines(env.get("packages"))
    python = env.get("python")
    version = python.get("version") if isinstance(python, dict) else None
    with open(os.path.join(folder, "requirements.txt"), "w", encoding="utf-8") as fh:
        shown = version if isinstance(version, str) and _VERSION.match(version) else "unknown"
        fh.write(f"# Packages of run {checkout.run.info.run_id} (python {shown})\n")
        if refused:
            fh.write(
                f"# {refused} recorded package entries were not valid package names/versions: left out\n"
            )
        fh.writelines(packages)
    if refused:
        import warnings

        warnings.warn(
            f"gitrun: the environment record of run {checkout.run.info.run_id} lists {refused} entries that "
            "are not package names and versions; they were left out of requirements.txt",
            stacklevel=3,
        )


# PEP 508 names; versions as pip writes them (PEP 440 and local versions). Anything else
# (spaces, ";", "--extra-index-url ...", URLs) is refused: a record may come from anyone.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
_VERSION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.+!_-]*[A-Za-z0-9])?\Z")


def requirement_lines(packages: Any) -> tuple[list[str], int]:
    """``name==version`` lines of a recorded package mapping, and how many were refused."""
    if not isinstance(packages, dict):
        return [], 0
    lines, refused = [], 0
    for name, version in sorted(packages.items(), key=lambda item: str(item[0])):
        if (
            isinstance(name, str)
            and isinstance(version, str)
            and _NAME.match(name)
            and _VERSION.match(version)
        ):
            lines.append(f"{name}=={version}\n")
        else:
            refused += 1
    return lines, refused


def _restore_inputs(client: Client, checkout: Checkout) -> None:
    from gitrun.tracking import inputs

    checkout.inputs = [
        str(p) for p in inputs.restore(client.store, checkout.run.info.run_id, checkout.directory)
    ]


def recorded_environment(client: Client, run_id: str) -> dict[str, Any]:
    store = client.store
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.ENVIRONMENT_FILE}")
    return store.records.load_yaml(entry.oid, "environment.yaml") if entry else {}


def environment_changes(client: Client, run_id: str) -> list[tuple[str, str | None, str | None]]:
    """``(what, recorded, now)`` for Python, platform and every package that differs."""
    import platform

    from gitrun.tracking.capture.environment import packages

    recorded = recorded_environment(client, run_id)
    changes: list[tuple[str, str | None, str | None]] = []
    then_python = (recorded.get("python") or {}).get("version")
    if then_python != platform.python_version():
        changes.append(("python", then_python, platform.python_version()))
    then_platform = recorded.get("platform") or {}
    for key, now in (("system", platform.system()), ("machine", platform.machine())):
        if then_platform.get(key) != now:
            changes.append((f"platform.{key}", then_platform.get(key), now))
    before = {str(k): str(v) for k, v in (recorded.get("packages") or {}).items()}
    after = packages()
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            changes.append((name, before.get(name), after.get(name)))
    return changes


@dataclass(frozen=True)
class MetricCheck:
    key: str
    original: float | None
    reproduced: float | None
    points: tuple[int, int]
    ok: bool


def verify(client: Client, original_id: str, new_id: str, tolerance: float = 0.0) -> list[MetricCheck]:
    """Compare every metric series of two runs point by point, within ``tolerance``."""
    original = client.get_run(original_id)
    reproduced = client.get_run(new_id)
    checks = []
    for key in sorted(set(original.data.metrics) | set(reproduced.data.metrics)):
        old = client.get_metric_history(original_id, key)
        new = client.get_metric_history(new_id, key)
        ok = len(old) == len(new) and all(
            a.step == b.step and _close(a.value, b.value, tolerance) for a, b in zip(old, new)
        )
        checks.append(
            MetricCheck(
                key,
                original.data.metrics.get(key),
                reproduced.data.metrics.get(key),
                (len(old), len(new)),
                ok,
            )
        )
    return checks


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= tolerance


def rerun(client: Client, checkout: Checkout) -> Any:
    """Execute the recorded command in the worktree as a new run tagged as a reproduction."""
    from gitrun.tracking.command import run_command

    if checkout.command is None:
        raise GitrunError(
            f"run {checkout.run.info.run_id} recorded no command to re-execute (it was not started from a "
            "script or with `gitrun run`)"
        )
    command = [sys.executable if arg == "python" else arg for arg in checkout.command[:1]] + checkout.command[
        1:
    ]
    previous = os.getcwd()
    os.chdir(checkout.cwd)
    try:
        return run_command(
            client,
            command,
            experiment_id=checkout.run.info.experiment_id,
            run_name=f"reproduce-{checkout.run.info.run_name}",
            params=checkout.run.data.params,
            tags={"gitrun.reproduces": checkout.run.info.run_id},
        )
    finally:
        os.chdir(previous)


@dataclass(frozen=True)
class RunCheck:
    """One original run of a tree and the reproduced run matched to it."""

    original_id: str
    original_name: str
    reproduced_id: str | None
    """None when no reproduced run matches (the reproduction lacks it)."""
    metrics: list[MetricCheck]

    @property
    def ok(self) -> bool:
        return self.reproduced_id is not None and all(m.ok for m in self.metrics)


def root_of(client: Client, run_id: str) -> str:
    """The top of a run's tree of nested runs (the run its script started first)."""
    seen = {run_id}
    current = client.get_run(run_id)
    while True:
        parent = current.data.tags.get("mlflow.parentRunId")
        if not parent or parent in seen or not client.store.run_exists(parent):
            return current.info.run_id
        seen.add(parent)
        current = client.get_run(parent)


def match_children(
    originals: list[ent.Run], candidates: list[ent.Run]
) -> list[tuple[ent.Run, ent.Run | None]]:
    """Pair each original child with a reproduced one: same name and params first, then
    same params, then same name; each reproduced run is used once."""
    free = list(candidates)
    pairs: list[tuple[ent.Run, ent.Run | None]] = []
    tests: tuple[Callable[[ent.Run, ent.Run], bool], ...] = (
        lambda o, c: o.info.run_name == c.info.run_name and o.data.params == c.data.params,
        lambda o, c: o.data.params == c.data.params and bool(o.data.params),
        lambda o, c: o.info.run_name == c.info.run_name,
    )
    chosen: dict[str, ent.Run] = {}
    for test in tests:
        for original in originals:
            if original.info.run_id in chosen:
                continue
            for candidate in free:
                if test(original, candidate):
                    chosen[original.info.run_id] = candidate
                    free.remove(candidate)
                    break
    for original in originals:
        pairs.append((original, chosen.get(original.info.run_id)))
    return pairs


def verify_tree(client: Client, original_id: str, new_id: str, tolerance: float = 0.0) -> list[RunCheck]:
    """Verify a reproduction run and its nested runs against the originals: the two roots
    are compared, then each original child with the reproduced child that matches it
    (by name and params), recursively; every metric series point by point."""
    from gitrun.tracking.search import child_run_ids

    store = client.store
    checks: list[RunCheck] = []

    def visit(original: ent.Run, new: ent.Run | None) -> None:
        metrics = verify(client, original.info.run_id, new.info.run_id, tolerance) if new is not None else []
        checks.append(
            RunCheck(original.info.run_id, original.info.run_name, new.info.run_id if new else None, metrics)
        )
        kids = [client.get_run(r) for r in child_run_ids(store, original.info.run_id)]
        if not kids:
            return
        new_kids = [client.get_run(r) for r in child_run_ids(store, new.info.run_id)] if new else []
        for kid, match in match_children(kids, new_kids):
            visit(kid, match)

    visit(client.get_run(original_id), client.get_run(new_id))
    return checks


_WORKTREE_SUBJECT = "gitrun: code of run "


@dataclass(frozen=True)
class Worktree:
    path: str
    head: str
    run_id: str | None
    """The run whose code gitrun checked out there; None for other worktrees."""


def worktrees(client: Client) -> list[Worktree]:
    """The repository's linked worktrees, with the run each of gitrun's holds."""
    repo = client.store.repo
    out = run_git(["worktree", "list", "--porcelain"], git_dir=repo.common_dir).decode("utf-8", "replace")
    found = []
    for block in out.strip().split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines())
        path, head = fields.get("worktree"), fields.get("HEAD")
        if not path or not head or "bare" in fields:
            continue
        run_id = None
        try:
            message = repo.read_commit(Oid(head)).message
            if message.startswith(_WORKTREE_SUBJECT):
                run_id = message[len(_WORKTREE_SUBJECT) :].split()[0]
        except GitrunError:
            pass
        found.append(Worktree(path, head, run_id))
    return found


def reuse_checkout(client: Client, run_id: str, directory: str | None = None) -> Checkout | None:
    """An existing worktree of this run at the checkout's folder, refreshed (params,
    inputs), instead of a second worktree; None when there is none to reuse."""
    target = os.path.abspath(directory or _default_directory(client, run_id))
    for tree in worktrees(client):
        if os.path.realpath(tree.path) == os.path.realpath(target) and tree.run_id == run_id:
            run = client.get_run(run_id)
            code = run.record.get("code") or {}
            found = Checkout(run, target, Oid(tree.head), code.get("commit"), target, recorded_command(run))
            found.cwd = _mapped_cwd(run, target)
            _write_sidecar(client, found)
            _restore_inputs(client, found)
            found.environment_changes = environment_changes(client, run_id)
            return found
    return None


def prune_worktrees(client: Client, *, force: bool = False) -> tuple[list[str], list[str]]:
    """Remove the worktrees gitrun created for runs: ``(removed, kept)``.  Untracked
    files there (params, restored inputs, outputs of a re-run) go with them; a worktree
    where tracked files were edited is kept unless ``force``."""
    from gitrun.core.git.cli import run_git_status

    repo = client.store.repo
    removed: list[str] = []
    kept: list[str] = []
    for tree in worktrees(client):
        if tree.run_id is None:
            continue
        if os.path.isdir(tree.path) and not force:
            code, out, _ = run_git_status(["status", "--porcelain", "--untracked-files=no"], cwd=tree.path)
            if code != 0 or out.strip():
                kept.append(tree.path)
                continue
        code, _, _ = run_git_status(["worktree", "remove", "--force", tree.path], git_dir=repo.common_dir)
        (removed if code == 0 else kept).append(tree.path)
    run_git(["worktree", "prune"], git_dir=repo.common_dir)
    return removed, kept
