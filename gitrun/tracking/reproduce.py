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
import time
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.cli import run_git
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
    who = f"gitrun <gitrun@localhost> {int(time.time())} +0000"
    message = f"gitrun: code of run {run_id}\n\nRecorded on top of {base or '(no commit)'}"
    commit = repo.write_commit(Commit(tree, parents, who, who, message + "\n"))
    target = os.path.abspath(directory or _default_directory(client, run_id))
    if os.path.exists(target) and os.listdir(target):
        raise InvalidParameterValue(f"{target} exists and is not empty: choose another --dir")
    run_git(["worktree", "add", "--detach", "--quiet", target, commit], git_dir=repo.common_dir)
    checkout = Checkout(run, target, commit, base, target, _command(run))
    checkout.cwd = _mapped_cwd(run, target)
    _write_sidecar(client, checkout)
    _restore_inputs(client, checkout)
    checkout.environment_changes = environment_changes(client, run_id)
    return checkout


def _mapped_cwd(run: ent.Run, target: str) -> str:
    source = run.record.get("source") or {}
    root = _recorded_root(run)
    cwd = captured_str(source.get("cwd")) if isinstance(source, dict) else None
    if root and cwd and (cwd == root or cwd.startswith(root + os.sep)):
        return os.path.join(target, os.path.relpath(cwd, root))
    return target


def _recorded_root(run: ent.Run) -> str | None:
    code = run.record.get("code") or {}
    root = captured_str(code.get("root")) if isinstance(code, dict) else None
    return root or None


def _command(run: ent.Run) -> list[str] | None:
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
    root = _recorded_root(run)
    if not argv or not entry or argv[0] in ("-c", "-m", ""):
        return None
    script = os.path.relpath(entry, root) if root and entry.startswith(root + os.sep) else argv[0]
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
