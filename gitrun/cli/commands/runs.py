"""``gitrun runs ls``: find runs with MLflow filter strings, as a table, JSON or CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist

_ATTRIBUTES = (
    "run_id",
    "run_name",
    "experiment_id",
    "status",
    "lifecycle_stage",
    "user_id",
    "start_time",
    "end_time",
    "duration",
    "artifact_uri",
)
_ALIASES = {
    "name": "run_name",
    "id": "run_id",
    "run": "run_id",
    "start": "start_time",
    "end": "end_time",
    "user": "user_id",
    "experiment": "experiment_id",
}
_DEFAULT_COLUMNS = ("run_id", "run_name", "status", "start_time", "duration")


def resolve_experiments(client: Any, names_or_ids: Sequence[str]) -> list[str]:
    """Experiment ids for ``-e`` values (an id or a name each); all active ones for none."""
    from gitrun.tracking import search

    if not names_or_ids:
        return [e.experiment_id for e in search.all_experiments(client.store)]
    ids = []
    for text in names_or_ids:
        experiment = None
        if text.isdigit():
            try:
                experiment = client.get_experiment(text)
            except ResourceDoesNotExist:
                experiment = None
        if experiment is None:
            experiment = client.get_experiment_by_name(text)
        if experiment is None:
            raise ResourceDoesNotExist(
                f"no experiment named or numbered '{text}' (see `gitrun experiments ls`)"
            )
        ids.append(experiment.experiment_id)
    return ids


def parse_columns(specs: Sequence[str]) -> list[str]:
    """``--columns`` values (comma-separated, repeatable) as canonical column names."""
    out = []
    for spec in specs:
        for raw in spec.split(","):
            name = raw.strip()
            if not name:
                continue
            name = _ALIASES.get(name, name)
            entity, _, key = name.partition(".")
            if name not in _ATTRIBUTES and not (entity in ("metrics", "params", "tags") and key):
                raise InvalidParameterValue(
                    f"unknown column '{raw.strip()}': use one of {', '.join(_ATTRIBUTES)}, or "
                    "metrics.<key>, params.<key>, tags.<key>"
                )
            out.append(name)
    return out


def column_value(run: Any, column: str) -> Any:
    """The raw value of a column for one run (None when the run lacks it)."""
    entity, _, key = column.partition(".")
    if entity in ("metrics", "params", "tags") and key:
        return getattr(run.data, entity).get(key)
    if column == "duration":
        return None if run.info.end_time is None else (run.info.end_time - run.info.start_time) / 1000
    return getattr(run.info, column)


def _table_cell(run: Any, column: str) -> str:
    value = column_value(run, column)
    if column == "run_id":
        return str(value)[:8]
    if column == "run_name" and "mlflow.parentRunId" in run.data.tags:
        return f"└ {value}"
    if column in ("start_time", "end_time"):
        return render.fmt_time(value)
    if column == "duration":
        return render.fmt_duration(run.info.start_time, run.info.end_time)
    return render.fmt_cell(value)


def run_json(run: Any) -> dict[str, Any]:
    info = run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "tags": dict(run.data.tags),
    }


@click.group("runs")
def runs() -> None:
    """List runs."""


@runs.command("ls")
@click.option(
    "-e",
    "--experiment",
    "experiments",
    multiple=True,
    metavar="EXPERIMENT",
    help="Experiment name or id (repeatable; default: every active experiment).",
)
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="FILTER",
    help="MLflow filter string, e.g. \"metrics.acc > 0.9 and params.model = 'cnn'\".",
)
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="KEY",
    help="Order key, e.g. 'metrics.acc DESC' (repeatable; default: newest first).",
)
@click.option(
    "--columns",
    multiple=True,
    metavar="COLS",
    help="Comma-separated columns: run_id, run_name, status, start_time, metrics.<key>, ...",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Most runs to list."
)
@click.option("--all", "view", flag_value="ALL", help="Include deleted runs.")
@click.option("--deleted", "view", flag_value="DELETED_ONLY", help="Only deleted runs.")
@click.option("--json", "output", flag_value="json", help="JSON for scripts.")
@click.option("--csv", "output", flag_value="csv", help="CSV for scripts.")
def ls(
    *,
    experiments: tuple[str, ...],
    filter_string: str,
    order_by: tuple[str, ...],
    columns: tuple[str, ...],
    limit: int,
    view: str | None,
    output: str | None,
) -> int:
    """List runs matching a filter, best first when ordered by a metric."""
    from gitrun.tracking import search

    obj = cli_context()
    client = obj.reader
    chosen = parse_columns(columns)
    ids = resolve_experiments(client, experiments)
    found = (
        search.collect_runs(
            client.store,
            ids,
            filter_string=filter_string,
            run_view_type=view or "ACTIVE_ONLY",
            max_results=limit,
            order_by=list(order_by) or None,
        )
        if ids
        else []
    )
    if output == "json":
        if chosen:
            render.write_json([{c: column_value(r, c) for c in chosen} for r in found])
        else:
            render.write_json([run_json(r) for r in found])
        return 0
    if not chosen:
        chosen = [
            *_DEFAULT_COLUMNS,
            *(f"params.{k}" for k in sorted({k for r in found for k in r.data.params})),
            *(f"metrics.{k}" for k in sorted({k for r in found for k in r.data.metrics})),
        ]
    if output == "csv":
        render.write_csv(chosen, [[column_value(r, c) for c in chosen] for r in found])
        return 0
    if not found:
        click.echo("No runs match." if filter_string else "No runs yet.")
        return 0
    right = [i for i, c in enumerate(chosen) if c.startswith("metrics.") or c == "duration"]
    rows = [[_table_cell(r, c) for c in chosen] for r in found]
    render.print_table(chosen, rows, color=obj.color, right=right)
    return 0
