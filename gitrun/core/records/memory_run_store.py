"""A :class:`RunStore` in plain dicts: the run store's semantics, without git.

It passes the same contract suite as the git store, so it states in a page of plain
logic what the git store does with journals, chunks and merges; the layers above can
be tested against it.  Nothing is durable: a process that ends loses its runs (so
``owned``, which says what recovery does after a crash, changes nothing here).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.pending import FileValue, Point, latest_as_yaml
from gitrun.core.records.run_store import MetricColumns, RunState, SeriesChunk
from gitrun.core.records.values import RunRecord, parse_run
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist


@dataclass
class _Run:
    info: dict[str, Any]
    tags: dict[str, str]
    files: dict[str, FileValue]
    params: dict[str, str] = field(default_factory=dict)
    series: dict[str, tuple[array[int], array[int], array[float]]] = field(default_factory=dict)
    latest: dict[str, Point] = field(default_factory=dict)
    maps: dict[str, dict[str, Any]] = field(default_factory=dict)


class MemoryRunStore:
    """Runs in memory, one lock for all (the semantics matter here, not the speed)."""

    def __init__(self) -> None:
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    def _get(self, run_id: str) -> _Run:
        run = self._runs.get(run_id)
        if run is None:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")
        return run

    def _writable(self, run_id: str) -> _Run:
        run = self._get(run_id)
        if run.info.get("lifecycle_stage") == "deleted":
            raise InvalidParameterValue(
                f"The run {run_id} must be in the 'active' state. Current state is deleted."
            )
        return run

    # -- writing --------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        info: Mapping[str, Any],
        tags: Mapping[str, str],
        files: Mapping[str, FileValue],
        *,
        owned: bool = True,
    ) -> None:
        with self._lock:
            if run_id in self._runs:
                raise InvalidParameterValue(f"run {run_id} already exists")
            self._runs[run_id] = _Run(dict(info), dict(tags), {k: v for k, v in files.items() if v})

    def open_run(self, run_id: str, *, owned: bool) -> None:
        # Ownership decides what recovery does after a crash; nothing here outlives one.
        with self._lock:
            self._get(run_id)

    def log_metric(self, run_id: str, key: str, value: float, step: int, timestamp: int) -> None:
        self.log_batch(run_id, metrics=MetricColumns([key], [value], [step], [timestamp]))

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] | None = None,
        metrics: MetricColumns | None = None,
        tags: Mapping[str, str] | None = None,
        delete_tags: Iterable[str] = (),
    ) -> None:
        with self._lock:
            run = self._writable(run_id)
            for key, text in (params or {}).items():
                old = run.params.get(key)
                if old is not None and old != text:
                    raise InvalidParameterValue(
                        f"Changing param values is not allowed. Param with key='{key}' was already "
                        f"logged with value='{old}' for run ID='{run_id}'. Attempted logging new "
                        f"value '{text}'."
                    )
            gone = list(delete_tags)
            for key in gone:
                if key not in run.tags:
                    raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")
            run.params.update(params or {})
            if metrics is not None:
                for key, value, step, timestamp in zip(
                    metrics.keys, metrics.values, metrics.steps, metrics.timestamps, strict=True
                ):
                    steps, timestamps, values = run.series.setdefault(
                        key, (array("q"), array("q"), array("d"))
                    )
                    steps.append(step)
                    timestamps.append(timestamp)
                    values.append(value)
                    point = (step, timestamp, value)
                    if key not in run.latest or point > run.latest[key]:
                        run.latest[key] = point
            run.tags.update(tags or {})
            for key in gone:
                run.tags.pop(key, None)

    def update_info(self, run_id: str, fields: Mapping[str, Any], *, allow_deleted: bool = False) -> None:
        with self._lock:
            run = self._get(run_id) if allow_deleted else self._writable(run_id)
            run.info.update(fields)

    def update_map(
        self, run_id: str, name: str, items: Mapping[str, Any], delete: Iterable[str] = ()
    ) -> None:
        with self._lock:
            current = self._writable(run_id).maps.setdefault(name, {})
            current.update(items)
            for key in delete:
                current.pop(key, None)

    def put_files(self, run_id: str, files: Mapping[str, FileValue]) -> None:
        with self._lock:
            run = self._writable(run_id)
            for name, value in files.items():
                if value is None:
                    run.files.pop(name, None)
                else:
                    run.files[name] = value

    # -- reading --------------------------------------------------------------------------

    def read_state(self, run_id: str, *, maps: Iterable[str] = (), files: Iterable[str] = ()) -> RunState:
        with self._lock:
            run = self._get(run_id)
            return RunState(
                dict(run.info),
                dict(run.tags),
                {name: dict(run.maps.get(name, {})) for name in maps},
                {name: run.files[name] for name in files if name in run.files},
            )

    def read_run(self, run_id: str) -> RunRecord:
        with self._lock:
            run = self._get(run_id)
            # Through the record format and its one parser, as the git store reads runs:
            # the two stores cannot disagree on what a record means.
            documents = {
                layout.RUN_FILE: run.info,
                layout.PARAMS_FILE: run.params,
                layout.TAGS_FILE: run.tags,
                layout.METRICS_FILE: latest_as_yaml(run.latest),
                **run.maps,
            }
            files = {name: yamlfmt.dump(data).encode() for name, data in documents.items()}
        record = parse_run(run_id, files)
        if record is None:
            raise ResourceDoesNotExist(f"Run '{run_id}' not found")
        return record

    def metric_series(self, run_id: str, key: str) -> list[SeriesChunk]:
        with self._lock:
            found = self._get(run_id).series.get(key)
            return [] if found is None else [(found[0][:], found[1][:], found[2][:])]

    def run_exists(self, run_id: str) -> bool:
        return run_id in self._runs

    def is_live(self, run_id: str) -> bool:
        return run_id in self._runs

    # -- lifecycle: nothing is buffered, nothing is owned past the process ------------

    def flush(self, run_ids: Iterable[str] | None = None) -> None:
        pass

    def release(self, run_id: str) -> None:
        pass

    def close(self) -> None:
        pass
