"""``gitrun experiments ls``: the experiments of this repository."""

from __future__ import annotations

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context

_COLUMNS = (
    "experiment_id",
    "name",
    "lifecycle_stage",
    "creation_time",
    "last_update_time",
    "artifact_location",
)


@click.group("experiments")
def experiments() -> None:
    """List experiments."""


@experiments.command("ls")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@click.option("--json", "output", flag_value="json", help="JSON for scripts.")
@click.option("--csv", "output", flag_value="csv", help="CSV for scripts.")
def ls(show_all: bool, output: str | None) -> int:
    """List experiments, newest first."""
    from gitrun.tracking import search

    obj = cli_context()
    found = search.all_experiments(obj.reader.store, view_type="ALL" if show_all else "ACTIVE_ONLY")
    if output == "json":
        render.write_json([{**{c: getattr(e, c) for c in _COLUMNS}, "tags": dict(e.tags)} for e in found])
        return 0
    if output == "csv":
        render.write_csv(_COLUMNS, [[getattr(e, c) for c in _COLUMNS] for e in found])
        return 0
    rows = [
        [
            e.experiment_id,
            e.name,
            e.lifecycle_stage,
            render.fmt_time(e.creation_time),
            render.fmt_time(e.last_update_time),
        ]
        for e in found
    ]
    render.print_table(["id", "name", "stage", "created", "updated"], rows, color=obj.color)
    return 0
