"""Everything recorded about a run, for people: ``gitrun show`` and ``gitrun compare``.

MLflow's entities carry params, metrics and tags; gitrun also records the code the
run ran on (commit, dirty state, changed files) and its environment (Python,
platform, packages).  This module gathers those, and works out how runs differ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.artifacts.view import ArtifactEntry, parse_entries
from gitrun.core.records import layout
from gitrun.core.records.text import readable
from gitrun.errors import GitrunError
from gitrun.tracking import entities as ent
from gitrun.tracking import search
from gitrun.tracking.store import TrackingStore


@dataclass(frozen=True)
class RunDetails:
    """One run with what gitrun recorded beyond MLflow's fields."""

    run: ent.Run
    experiment_name: str | None
    code: dict[str, Any]
    environment: dict[str, Any]
    parent_run_id: str | None
    child_run_ids: list[str]
    artifacts: dict[str, ArtifactEntry] = field(default_factory=dict)
    """As logged: a file, or a folder logged whole (its digest is its manifest's)."""
    inputs: dict[str, ArtifactEntry] = field(default_factory=dict)

    @property
    def packages(self) -> dict[str, str]:
        pkgs = self.environment.get("packages")
        return {str(k): str(v) for k, v in pkgs.items()} if isinstance(pkgs, dict) else {}


def _environment(store: TrackingStore, run_id: str) -> dict[str, Any]:
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.ENVIRONMENT_FILE}")
    if entry is None:
        return {}
    try:
        return store.records.load_yaml(entry.oid, f"run {run_id} {layout.ENVIRONMENT_FILE}")
    except GitrunError:
        return {}  # shown as "not recorded"; the rest of the run is still worth showing


def run_details(store: TrackingStore, run_id: str) -> RunDetails:
    """Gather a run's record, code, environment, parent and children.

    Args:
        store: The tracking store.
        run_id: A full run id, a unique prefix of one, a run name, ``latest`` or ``@~N``.

    Raises:
        ResourceDoesNotExist: No run matches.
        InvalidParameterValue: The prefix matches several runs.
    """
    from gitrun.tracking.selection import resolve_run

    run_id = resolve_run(store, run_id)
    run = store.get_run(run_id)
    try:
        experiment_name: str | None = store.get_experiment(run.info.experiment_id).name
    except GitrunError:
        experiment_name = None
    code = run.record.get("code")
    return RunDetails(
        run=run,
        experiment_name=experiment_name,
        code=dict(code) if isinstance(code, Mapping) else {},
        environment=_environment(store, run_id),
        parent_run_id=run.data.tags.get("mlflow.parentRunId") or run.record.get("parent_run_id"),
        child_run_ids=search.child_run_ids(store, run_id),
        artifacts=_entries(store, run_id, "artifacts"),
        inputs=_entries(store, run_id, "inputs"),
    )


def _entries(store: TrackingStore, run_id: str, kind: str) -> dict[str, ArtifactEntry]:
    try:
        if kind == "artifacts":
            from gitrun.tracking.artifacts.records import read_entries

            return dict(sorted(read_entries(store, run_id).items()))
        from gitrun.tracking.inputs import recorded_entries

        return dict(sorted(parse_entries(recorded_entries(store, run_id)).items()))
    except GitrunError:
        return {}  # a damaged record: show the rest of the run


@dataclass(frozen=True)
class Row:
    """One key across several runs; ``None`` where a run lacks it."""

    key: str
    values: list[Any]

    @property
    def differs(self) -> bool:
        first = self.values[0]
        return any(not _same(first, v) for v in self.values[1:])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True  # NaN and NaN are the same recorded value
    return bool(a == b)


def rows(mappings: Sequence[Mapping[str, Any]], *, sort: bool = True) -> list[Row]:
    """One row per key found in any mapping: keys sorted, or in first-seen order."""
    keys = list(dict.fromkeys(k for m in mappings for k in m))
    return [Row(k, [m.get(k) for m in mappings]) for k in (sorted(keys) if sort else keys)]


@dataclass(frozen=True)
class Comparison:
    """How several runs differ: params, metrics, code and environment."""

    runs: list[RunDetails]
    params: list[Row]
    metrics: list[Row]
    code: list[Row]
    environment: list[Row]
    packages: list[Row]


def _code_summary(details: RunDetails) -> dict[str, Any]:
    code = details.code
    return {
        "commit": code.get("commit"),
        "branch": code.get("branch"),
        "dirty": code.get("dirty"),
        "changed files": ", ".join(readable(p) for p in code.get("changed") or []) or None,
        "deleted files": ", ".join(readable(p) for p in code.get("deleted") or []) or None,
    }


def environment_summary(details: RunDetails) -> dict[str, Any]:
    """Python version and implementation, platform, and the number of packages."""
    env = details.environment
    python = env.get("python")
    python = python if isinstance(python, dict) else {}
    system = env.get("platform")
    system = system if isinstance(system, dict) else {}
    return {
        "python": python.get("version"),
        "implementation": python.get("implementation"),
        "platform": " ".join(str(system[k]) for k in ("system", "release", "machine") if system.get(k))
        or None,
        "packages": len(details.packages) if details.packages else None,
    }


def compare(details: Sequence[RunDetails]) -> Comparison:
    """Line up runs key by key; package rows list only packages whose versions differ."""
    runs = list(details)
    packages = [r for r in rows([d.packages for d in runs]) if r.differs]
    return Comparison(
        runs=runs,
        params=rows([d.run.data.params for d in runs]),
        metrics=rows([d.run.data.metrics for d in runs]),
        code=[
            r
            for r in rows([_code_summary(d) for d in runs], sort=False)
            if any(v is not None for v in r.values)
        ],
        environment=rows([environment_summary(d) for d in runs], sort=False),
        packages=packages,
    )
