# ruff: noqa: S608  (queries join fixed fragments; every value is a bound parameter)
"""MLflow's SQL store, read with plain SQL over MLflow's schema.

``sqlite:///path`` is read with the standard library's ``sqlite3`` (opened read-only);
other SQLAlchemy URIs (``postgresql://``, ``mysql://``, ...) are read through
SQLAlchemy when it and the database's driver are installed.  Tables used:
``experiments``, ``experiment_tags``, ``runs``, ``params``, ``tags``, ``metrics``,
``latest_metrics`` and, when present (MLflow >= 2.4), ``datasets``, ``inputs`` and
``input_tags``.  Columns that older schemas lack (``metrics.step``, ``is_nan``,
``runs.name``) are read as absent.  Checked against the schema of MLflow 3.17
(alembic head ``dc11669786a5``) and the columns every MLflow since 1.x wrote.

The SQL store keeps ±infinity as ±1.7976931348623157e308 and reads it back as such;
the importer keeps what MLflow's API returns.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any
from urllib.parse import quote

from gitrun.errors import InvalidParameterValue
from gitrun.migrate.source import SourceExperiment, fingerprint, local_artifact_dir, status_name
from gitrun.tracking import entities as ent
from gitrun.tracking.imports import ImportedRun, Points


class _Database:
    """``query(sql, params)`` over sqlite3 or SQLAlchemy, with ``:name`` parameters."""

    def __init__(self, uri: str) -> None:
        self._engine: Any = None
        if uri.startswith("sqlite:///"):
            path = uri[len("sqlite:///") :]
            if not os.path.isfile(path):
                raise InvalidParameterValue(f"no MLflow database at {path}")
            # Read-only: importing never changes the source.
            self._sqlite: sqlite3.Connection | None = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
        else:
            self._sqlite = None
            try:
                import sqlalchemy
            except ImportError:
                raise InvalidParameterValue(
                    f"reading {uri.split(':', maxsplit=1)[0]} databases needs SQLAlchemy and the "
                    "database's driver (pip install sqlalchemy <driver>); sqlite:/// needs nothing"
                ) from None
            self._engine = sqlalchemy.create_engine(uri)
            self._text = sqlalchemy.text

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params or {}).fetchall()
        with self._engine.connect() as conn:
            return [tuple(row) for row in conn.execute(self._text(sql), params or {})]

    def columns(self, table: str) -> set[str]:
        if self._sqlite is not None:
            return {row[1] for row in self._sqlite.execute(f"PRAGMA table_info({table})")}
        import sqlalchemy

        try:
            return {c["name"] for c in sqlalchemy.inspect(self._engine).get_columns(table)}
        except sqlalchemy.exc.NoSuchTableError:
            return set()

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._engine is not None:
            self._engine.dispose()


class SqlStore:
    """An MLflow tracking database."""

    def __init__(self, uri: str, artifacts_root: str | None = None) -> None:
        self.db = _Database(uri)
        self.description = uri
        self.artifacts_root = artifacts_root
        if not self.db.columns("runs"):
            raise InvalidParameterValue(f"{uri} has no MLflow tables (runs, experiments, ...)")
        self._metric_cols = self.db.columns("metrics")
        self._run_cols = self.db.columns("runs")
        self._has_inputs = bool(self.db.columns("inputs")) and bool(self.db.columns("datasets"))
        self._series_of: str | None = None
        self._series: dict[str, list[tuple[int, int, float]]] = {}

    def experiments(self) -> list[SourceExperiment]:
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for exp_id, key, value in self.db.query("SELECT experiment_id, key, value FROM experiment_tags"):
            tags[str(exp_id)][str(key)] = "" if value is None else str(value)
        rows = self.db.query(
            "SELECT experiment_id, name, lifecycle_stage FROM experiments ORDER BY experiment_id"
        )
        return [
            SourceExperiment(str(e), str(n), str(s or "active"), tags.get(str(e), {})) for e, n, s in rows
        ]

    def _by_run(self, sql: str, exp: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = defaultdict(dict)
        for run, key, value in self.db.query(sql, {"exp": exp}):
            out[str(run)][str(key)] = "" if value is None else str(value)
        return out

    def runs(self, experiment: SourceExperiment) -> Iterator[ImportedRun]:
        exp = experiment.experiment_id
        join = "JOIN runs r ON r.run_uuid = x.run_uuid WHERE r.experiment_id = :exp"
        params = self._by_run(f"SELECT x.run_uuid, x.key, x.value FROM params x {join}", exp)
        tags = self._by_run(f"SELECT x.run_uuid, x.key, x.value FROM tags x {join}", exp)
        latest: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in self.db.query(
            f"SELECT x.run_uuid, x.key, x.timestamp, x.step, x.value FROM latest_metrics x {join}",
            {"exp": exp},
        ):
            latest[str(row[0])].append(row[1:])
        keys: dict[str, list[str]] = defaultdict(list)
        for run, key in self.db.query(
            f"SELECT DISTINCT x.run_uuid, x.key FROM metrics x {join}",
            {"exp": exp},
        ):
            keys[str(run)].append(str(key))
        name_col = "name" if "name" in self._run_cols else "NULL"
        rows = self.db.query(
            f"SELECT run_uuid, {name_col}, user_id, status, start_time, end_time, lifecycle_stage, "
            "artifact_uri FROM runs WHERE experiment_id = :exp ORDER BY start_time, run_uuid",
            {"exp": exp},
        )
        datasets = self._datasets(exp) if self._has_inputs else {}
        for raw_id, name, user, status, start, end, stage, artifact_uri in rows:
            run_id = str(raw_id)
            run_tags = tags.get(run_id, {})
            info = (name, user, status, start, end, stage)
            yield ImportedRun(
                run_id=run_id,
                experiment_id="",
                run_name=str(name or run_tags.get("mlflow.runName") or ""),
                user_id=str(user or "unknown"),
                status=status_name(status),
                start_time=int(start or 0),
                end_time=int(end) if end is not None else None,
                lifecycle_stage=str(stage or "active"),
                params=params.get(run_id, {}),
                tags=run_tags,
                metric_keys=sorted(keys.get(run_id, [])),
                history=partial(self.history, run_id),
                fingerprint=fingerprint(
                    info,
                    sorted(params.get(run_id, {}).items()),
                    sorted(run_tags.items()),
                    sorted(map(list, latest.get(run_id, []))),
                ),
                source=self.description,
                datasets=datasets.get(run_id, []),
                artifacts_dir=partial(local_artifact_dir, artifact_uri, self.artifacts_root),
            )

    def history(self, run_id: str, key: str) -> Points:
        """The series in the order MLflow's SQL store returns it: timestamp, step, value.

        A run's series are read in one query on ``metrics.run_uuid`` (indexed in every
        MLflow schema) and kept until another run is asked for: a query per key lets
        SQLite pick the primary key, which starts with the key, and scan every run's
        points of that key.
        """
        if self._series_of != run_id:
            step = "step" if "step" in self._metric_cols else "0"
            nan = "is_nan" if "is_nan" in self._metric_cols else "0"
            rows = self.db.query(
                f"SELECT key, {step}, timestamp, value, {nan} FROM metrics WHERE run_uuid = :run",
                {"run": run_id},
            )
            series: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
            for k, s, t, v, n in rows:
                series[str(k)].append((int(t), int(s), math.nan if n else float(v)))
            # MLflow orders by (timestamp, step, value); NaN is stored as 0 with is_nan set.
            self._series = {
                k: [
                    (s, t, v)
                    for t, s, v in sorted(points, key=lambda p: (p[0], p[1], 0.0 if p[2] != p[2] else p[2]))
                ]
                for k, points in series.items()
            }
            self._series_of = run_id
        return self._series.get(key, [])

    def _datasets(self, exp: str) -> dict[str, list[ent.DatasetInput]]:
        tags: dict[str, list[ent.InputTag]] = defaultdict(list)
        for input_id, key, value in self.db.query("SELECT input_uuid, name, value FROM input_tags"):
            tags[str(input_id)].append(ent.InputTag(str(key), str(value)))
        out: dict[str, list[ent.DatasetInput]] = defaultdict(list)
        rows: Sequence[tuple[Any, ...]] = self.db.query(
            "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, "
            "d.dataset_source, d.dataset_schema, d.dataset_profile "
            "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
            "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND d.experiment_id = :exp",
            {"exp": exp},
        )
        for run_id, input_id, name, digest, source_type, source, schema, profile in rows:
            dataset = ent.Dataset(
                str(name), str(digest), str(source_type or ""), str(source or ""), schema, profile
            )
            out[str(run_id)].append(
                ent.DatasetInput(dataset, sorted(tags.get(str(input_id), []), key=lambda t: t.key))
            )
        return out

    def close(self) -> None:
        self.db.close()
