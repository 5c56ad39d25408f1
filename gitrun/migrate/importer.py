"""``gitrun import-mlflow``: experiments and runs of an MLflow store into this repository."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gitrun.errors import InvalidParameterValue
from gitrun.migrate.source import MlflowSource
from gitrun.tracking import imports
from gitrun.tracking.store import TrackingStore


@dataclass
class Summary:
    """What an import did (or, with ``dry_run``, would do)."""

    experiments: int = 0
    runs_seen: int = 0
    runs_imported: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    points: int = 0
    skipped_experiments: list[str] = field(default_factory=list)

    def lines(self, dry_run: bool) -> list[str]:
        verb = "would import" if dry_run else "imported"
        out = [
            f"{self.experiments} experiment(s), {self.runs_seen} run(s) in the source",
            f"{verb} {self.runs_imported} new run(s), updated {self.runs_updated}, "
            f"{self.runs_unchanged} unchanged",
        ]
        if not dry_run:
            out.append(f"{self.points} metric point(s) written")
        return out


def open_source(source: str, artifacts_root: str | None = None) -> MlflowSource:
    """The reader for ``source``: a folder or ``file:`` URI (file store), a database URI,
    or an ``http(s)://`` MLflow server."""
    if source.startswith(("http://", "https://")):
        from gitrun.migrate.rest_store import RestStore

        return RestStore(source, artifacts_root)
    if "://" in source and not source.startswith("file:"):
        from gitrun.migrate.sql_store import SqlStore

        return SqlStore(source, artifacts_root)
    from urllib.parse import unquote, urlparse

    from gitrun.migrate.file_store import FileStore

    path = unquote(urlparse(source).path) if source.startswith("file:") else source
    return FileStore(path, artifacts_root)


def import_store(
    store: TrackingStore,
    source: MlflowSource,
    *,
    experiments: Sequence[str] = (),
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
) -> Summary:
    """Import (idempotently) the runs of ``source``; ``experiments`` limits it by name."""
    summary = Summary()
    found = source.experiments()
    if experiments:
        unknown = sorted(set(experiments) - {e.name for e in found})
        if unknown:
            raise InvalidParameterValue(
                f"no experiment named {', '.join(map(repr, unknown))} in {source.description}"
            )
        found = [e for e in found if e.name in experiments]
    plans = []
    for exp in found:
        runs = list(source.runs(exp))
        todo = [r for r in runs if imports.needs_sync(store, r)]
        summary.experiments += 1
        summary.runs_seen += len(runs)
        for run in todo:
            if store.run_exists(run.run_id):
                summary.runs_updated += 1
            else:
                summary.runs_imported += 1
        summary.runs_unchanged += len(runs) - len(todo)
        plans.append((exp, todo))
    if on_total is not None:
        on_total(sum(len(t) for _, t in plans))
    if dry_run:
        return summary
    for exp, todo in plans:
        existing = imports.find_experiment(store, exp.name)
        if todo or existing is None:
            experiment_id = imports.ensure_experiment(store, exp.name, exp.tags)
        else:
            experiment_id = existing.experiment_id
        for run in todo:
            summary.points += imports.sync_run(store, dataclasses.replace(run, experiment_id=experiment_id))
            if progress is not None:
                progress(1)
        imports.set_experiment_stage(store, experiment_id, exp.lifecycle_stage)
        imports.flush(store)
    return summary
