"""One tracking location opened by this process: its runs, experiments and capture.

A :class:`TrackingStore` puts together the parts of one location, each with one
job: the run store (:class:`GitRunStore`, the one door to a run's records), the
experiments (:class:`ExperimentStore`) and what new runs capture
(:class:`RunCapture`).  There is one per location per process
(:func:`gitrun.tracking.session.open_store`).
"""

from __future__ import annotations

import os
import uuid
from array import array
from collections.abc import Callable

from gitrun.core import location as loc
from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.core.records.git_run_store import GitRunStore
from gitrun.core.records.store import RecordStore
from gitrun.core.records.text import printable
from gitrun.errors import InvalidRecord
from gitrun.tracking import entities as ent
from gitrun.tracking.capture.run_start import InheritedCode, RunCapture
from gitrun.tracking.experiments import (
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    ExperimentStore,
    now_ms,
)
from gitrun.tracking.mapping import to_run
from gitrun.tracking.run_record import check_active

__all__ = ["DEFAULT_EXPERIMENT_ID", "DEFAULT_EXPERIMENT_NAME", "TrackingStore", "now_ms"]


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class TrackingStore:
    def __init__(self, location: loc.Location, *, read_only: bool = False) -> None:
        self.location = location
        self.capture = RunCapture(location)
        # A new standalone store takes the object format of the code it will record.
        code = (
            self.capture.code_repository_or_none() if location.standalone and location.found is None else None
        )
        self.repo: Repository = loc.open_repository(location, code.object_format if code else "sha1")
        self.records = RecordStore(self.repo)
        self.experiments = ExperimentStore(self.records, read_only=read_only)
        # Opening the run store replays the journals of processes that died.
        self.runs = GitRunStore(
            self.records,
            flush_interval=_float_env("GITRUN_FLUSH_INTERVAL", 5.0),
            max_pending=int(_float_env("GITRUN_FLUSH_POINTS", 100_000)),
        )
        # Where new run ids come from; tests inject ids that share a prefix.
        self.new_run_id: Callable[[], str] = lambda: uuid.uuid4().hex

    @property
    def uri(self) -> str:
        return self.location.uri

    @property
    def read_only(self) -> bool:
        """Opened by a read (listing, showing): creates nothing, not even the Default
        experiment's record (set to False by the first writer in the process)."""
        return self.experiments.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self.experiments.read_only = value

    # -- experiments ----------------------------------------------------------------------

    def get_experiment(self, experiment_id: str) -> ent.Experiment:
        return self.experiments.get(experiment_id)

    def get_experiment_by_name(self, name: str) -> ent.Experiment | None:
        return self.experiments.get_by_name(name)

    def list_experiments(self) -> list[ent.Experiment]:
        return self.experiments.list()

    # -- runs -----------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None,
        tags: dict[str, str],
        start_time: int | None = None,
        parent_run_id: str | None = None,
        inherit_code_from: str | None = None,
        owned: bool = True,
    ) -> str:
        check_active(self.get_experiment(experiment_id))
        run_id = self.new_run_id()
        info, tags, files = self.capture.new_run(
            self.records,
            run_id,
            experiment_id,
            run_name=run_name,
            tags=tags,
            start_time=start_time if start_time is not None else now_ms(),
            parent_run_id=parent_run_id,
            inherited=self._inherited_code(inherit_code_from) if inherit_code_from else None,
        )
        # An owned run is this process's: if the process dies, recovery marks it KILLED.
        self.runs.create_run(run_id, info, tags, files, owned=owned)
        return run_id

    def _inherited_code(self, run_id: str) -> InheritedCode | None:
        """The code of a parent run this process holds (a nested run shares it)."""
        if not self.runs.is_live(run_id):
            return None
        state = self.runs.read_state(run_id, files=[layout.CODE_DIR])
        tree = state.files.get(layout.CODE_DIR)
        if "code" not in state.info or tree is None:
            return None
        return dict(state.info["code"]), tree[1]

    def get_run(self, run_id: str) -> ent.Run:
        record = self.runs.read_run(run_id)
        try:
            return to_run(record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidRecord(
                f"run {run_id}: its record cannot be read ({type(exc).__name__}: {printable(str(exc))})"
            ) from None

    def run_exists(self, run_id: str) -> bool:
        return self.runs.run_exists(run_id)

    def metric_history(self, run_id: str, key: str) -> list[ent.Metric]:
        out: list[ent.Metric] = []
        for steps, timestamps, values in self.runs.metric_series(run_id, key):
            out += ent.Metric.many(key, values, timestamps, steps, run_id)
        return out

    def metric_series_oid(self, run_id: str, key: str) -> Oid | None:
        """The git tree holding a series' chunks (a content address: it changes when
        points are added, so it can key a cache); None when the run has no such metric."""
        return self.runs.series_tree(run_id, key)

    def metric_chunks(
        self, run_id: str, key: str, series_oid: Oid | None = None
    ) -> list[tuple[array[int], array[int], array[float]]]:
        """A series as ``(steps, timestamps, values)`` columns, one triple per chunk, in
        :meth:`metric_history`'s order (``series_oid``: from :meth:`metric_series_oid`)."""
        if series_oid is None:
            return self.runs.metric_series(run_id, key)
        return self.runs.series_chunks(series_oid)

    def close(self) -> None:
        self.runs.close()
        if os.environ.get("GITRUN_AUTO_GC", "1") != "0":
            from gitrun.core.git.maintenance import gc_in_background_if_needed

            gc_in_background_if_needed(self.repo.common_dir)
