"""The tables of the search index, and how to (re)create them.

Layout, chosen for MLflow's filters and orderings:

* ``runs``: one row per run with its searchable attributes, kept small so that
  scanning candidates stays cheap; ``run_data`` holds each run's params, tags and
  metric names as one JSON document and the latest metric values as packed
  little-endian float64s, read only for
  the rows of the page, so a page of results is built without a query (or git
  read) per run.  Packed values because parsing numbers was the largest cost of a
  page: JSON decodes a float ~10 times slower than a string of the same length.
* ``params``, ``tags``, ``metrics``: one row per (run, key), keyed by run for
  ordering joins and indexed by (key, value) for filters.  Keys are interned in
  ``keys`` (small integers make the indexes compact).
* A NaN metric is stored with a NULL value: SQLite has no NaN, and "row present,
  value NULL" keeps it apart from a missing metric (no row), which is exactly what
  MLflow's ordering needs (NaN after real values, missing after NaN).
* ``experiments`` and ``experiment_tags`` for search_experiments.
* ``meta``: the schema version and the records commit the index reflects.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

TABLES = (
    "meta",
    "keys",
    "runs",
    "run_data",
    "params",
    "tags",
    "metrics",
    "datasets",
    "logged_models",
    "experiments",
    "experiment_tags",
)

_DDL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID",
    "CREATE TABLE keys (kid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
    """CREATE TABLE runs (
        rid INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        tree TEXT NOT NULL,
        experiment_id TEXT NOT NULL,
        run_name TEXT NOT NULL,
        status TEXT NOT NULL,
        user_id TEXT NOT NULL,
        artifact_uri TEXT NOT NULL,
        lifecycle_stage TEXT NOT NULL,
        start_time INTEGER NOT NULL,
        end_time INTEGER
    )""",
    "CREATE TABLE run_data (rid INTEGER PRIMARY KEY, data TEXT NOT NULL, metric_values BLOB NOT NULL)",
    "CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time)",
    """CREATE TABLE params (
        rid INTEGER NOT NULL, kid INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (rid, kid)
    ) WITHOUT ROWID""",
    "CREATE INDEX params_by_value ON params (kid, value)",
    """CREATE TABLE tags (
        rid INTEGER NOT NULL, kid INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (rid, kid)
    ) WITHOUT ROWID""",
    "CREATE INDEX tags_by_value ON tags (kid, value)",
    """CREATE TABLE metrics (
        rid INTEGER NOT NULL, kid INTEGER NOT NULL, value REAL, PRIMARY KEY (rid, kid)
    ) WITHOUT ROWID""",
    "CREATE INDEX metrics_by_value ON metrics (kid, value)",
    # Inputs of runs for ``dataset.name`` / ``dataset.digest`` / ``dataset.context``
    # filters: declared files (``inputs.yaml``: name = path, no context) and dataset
    # inputs (``datasets.yaml``).
    "CREATE TABLE datasets (rid INTEGER NOT NULL, name TEXT, digest TEXT, context TEXT)",
    "CREATE INDEX datasets_by_run ON datasets (rid)",
    "CREATE INDEX datasets_by_digest ON datasets (digest)",
    # Logged models (``models.yaml``): ``models:/<model_id>`` and search_logged_models.
    "CREATE TABLE logged_models (rid INTEGER NOT NULL, model_id TEXT NOT NULL, name TEXT NOT NULL)",
    "CREATE INDEX logged_models_by_id ON logged_models (model_id)",
    "CREATE INDEX logged_models_by_run ON logged_models (rid)",
    """CREATE TABLE experiments (
        experiment_id TEXT PRIMARY KEY,
        number INTEGER,
        blob TEXT NOT NULL,
        name TEXT NOT NULL,
        artifact_location TEXT NOT NULL,
        lifecycle_stage TEXT NOT NULL,
        creation_time INTEGER,
        last_update_time INTEGER,
        tags TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE experiment_tags (
        experiment_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key)
    ) WITHOUT ROWID""",
)


def create(conn: sqlite3.Connection) -> None:
    """Create every table of an empty index (inside the caller's transaction)."""
    for statement in _DDL:
        conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def drop_all(conn: sqlite3.Connection) -> None:
    """Remove every table, ours or from another schema version (inside a transaction)."""
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in names:
        if not name.startswith("sqlite_"):
            conn.execute(f'DROP TABLE IF EXISTS "{name}"')


def version(conn: sqlite3.Connection) -> int | None:
    """The schema version the file was built with; None for an empty file."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    try:
        return int(row[0]) if row else None
    except ValueError:
        return None
