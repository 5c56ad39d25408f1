"""``gitrun experiments ls|create|rename|rm|restore``: the experiments of this repository."""

from __future__ import annotations

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import InvalidParameterValue

_COLUMNS = (
    "experiment_id",
    "name",
    "lifecycle_stage",
    "creation_time",
    "last_update_time",
    "artifact_location",
    "runs",
    "deleted_runs",
)


@click.group("experiments")
def experiments() -> None:
    """List and manage experiments (names or ids are accepted everywhere)."""


@experiments.command("ls")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV for scripts.")
def ls(show_all: bool, as_json: bool, as_csv: bool) -> int:
    """List experiments, newest first, with their number of runs."""
    from gitrun.tracking import search
    from gitrun.tracking.selection import experiment_run_counts

    output = render.output_format(json=as_json, csv=as_csv)
    obj = cli_context()
    found = search.all_experiments(obj.reader, view_type="ALL" if show_all else "ACTIVE_ONLY")
    counts = experiment_run_counts(obj.reader.store)

    def record(e: object) -> dict[str, object]:
        active, deleted = counts.get(e.experiment_id, (0, 0))  # type: ignore[attr-defined]
        return {
            **{c: getattr(e, c) for c in _COLUMNS[:6]},
            "runs": active,
            "deleted_runs": deleted,
        }

    if output == "json":
        render.write_json([{**record(e), "tags": dict(e.tags)} for e in found])
        return 0
    if output == "csv":
        render.write_csv(_COLUMNS, [list(record(e).values()) for e in found])
        return 0
    rows = []
    for e in found:
        active, deleted = counts.get(e.experiment_id, (0, 0))
        rows.append(
            [
                render.display_text(e.name),
                str(active) + (f" (+{deleted} deleted)" if deleted else ""),
                e.experiment_id,
                *([e.lifecycle_stage] if show_all else []),
                render.fmt_time(e.creation_time),
                render.fmt_time(e.last_update_time),
            ]
        )
    cols = [
        render.Column("name", keep=True),
        render.Column("runs", right=True, keep=True),
        render.Column("id", keep=True),
        *([render.Column("stage")] if show_all else []),
        render.Column("created"),
        render.Column("updated"),
    ]
    render.print_table(cols, rows, color=obj.color)
    return 0


@experiments.command("create")
@click.argument("name")
def create(name: str) -> int:
    """Create an experiment called NAME."""
    experiment_id = cli_context().client.create_experiment(name)
    click.echo(f"created experiment {render.display_text(name)} ({experiment_id})")
    return 0


@experiments.command("rename")
@click.argument("experiment")
@click.argument("new_name")
def rename(experiment: str, new_name: str) -> int:
    """Rename EXPERIMENT (a name or an id) to NEW_NAME."""
    obj = cli_context()
    experiment_id = obj.experiment_id(experiment)
    obj.client.rename_experiment(experiment_id, new_name)
    click.echo(
        f"renamed experiment {experiment_id}: {render.display_text(experiment)} -> "
        f"{render.display_text(new_name)}"
    )
    return 0


@experiments.command("rm")
@click.argument("experiment")
def rm(experiment: str) -> int:
    """Delete EXPERIMENT and its runs (soft: `gitrun experiments restore` undoes it)."""
    obj = cli_context()
    experiment_id = obj.experiment_id(experiment)
    if experiment_id == "0":
        raise InvalidParameterValue("the Default experiment (0) cannot be deleted: runs need a default home")
    obj.client.delete_experiment(experiment_id)
    click.echo(f"deleted experiment {render.display_text(experiment)} ({experiment_id}) and its runs")
    return 0


@experiments.command("restore")
@click.argument("experiment")
def restore(experiment: str) -> int:
    """Restore a deleted EXPERIMENT and the runs its deletion deleted."""
    obj = cli_context()
    experiment_id = obj.experiment_id(experiment)
    obj.client.restore_experiment(experiment_id)
    click.echo(f"restored experiment {render.display_text(experiment)} ({experiment_id})")
    return 0
