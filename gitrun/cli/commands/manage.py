"""Managing runs: ``gitrun runs rm|restore|tag|rename`` (MLflow's CLI has them too)."""

from __future__ import annotations

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import InvalidParameterValue


def _describe(run_id: str) -> str:
    run = cli_context().client.get_run(run_id)
    return f"{run_id[:8]} {render.display_text(run.info.run_name)}"


@click.command("rm")
@click.argument("runs", nargs=-1, required=True)
@click.option("--children", is_flag=True, help="Also delete the runs' child runs.")
def rm(runs: tuple[str, ...], children: bool) -> int:
    """Delete RUNS (soft: `gitrun runs restore` brings them back; `gitrun gc` keeps their artifacts)."""
    from gitrun.tracking import search

    obj = cli_context()
    ids = [obj.run_id(r) for r in runs]
    if children:
        ids += [c for r in list(ids) for c in search.child_run_ids(obj.client.store, r)]
    for run_id in dict.fromkeys(ids):
        obj.client.delete_run(run_id)
        click.echo(f"deleted {_describe(run_id)}")
    return 0


@click.command("restore")
@click.argument("runs", nargs=-1, required=True)
def restore(runs: tuple[str, ...]) -> int:
    """Restore deleted RUNS (ids or prefixes; see `gitrun runs ls --deleted`)."""
    from gitrun.tracking import search

    obj = cli_context()
    for text in runs:
        run_id = search.resolve_run_id(obj.client.store, text)
        run = obj.client.get_run(run_id)
        if run.info.lifecycle_stage != "deleted":
            raise InvalidParameterValue(f"run {run_id[:8]} is not deleted")
        obj.client.restore_run(run_id)
        click.echo(f"restored {_describe(run_id)}")
    return 0


@click.command("tag")
@click.argument("run")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--delete", "delete", is_flag=True, help="Delete the tags named by PAIRS (KEY only).")
def tag(run: str, pairs: tuple[str, ...], delete: bool) -> int:
    """Set tags on RUN (KEY=VALUE ...), or delete them (--delete KEY ...)."""
    obj = cli_context()
    run_id = obj.run_id(run)
    existing = obj.client.get_run(run_id).data.tags
    for pair in pairs:
        if delete:
            if pair not in existing:
                raise InvalidParameterValue(f"run {run_id[:8]} has no tag '{pair}'")
            obj.client.delete_tag(run_id, pair)
            click.echo(f"deleted tag {pair} of {_describe(run_id)}")
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidParameterValue(f"tags are KEY=VALUE, got {pair!r}")
        obj.client.set_tag(run_id, key, value)
        click.echo(f"tagged {_describe(run_id)}: {key}={render.display_text(value)}")
    obj.client.flush()
    return 0


@click.command("rename")
@click.argument("run")
@click.argument("name")
def rename(run: str, name: str) -> int:
    """Give RUN a new name."""
    obj = cli_context()
    run_id = obj.run_id(run)
    old = obj.client.get_run(run_id).info.run_name
    obj.client.update_run(run_id, name=name)
    obj.client.flush()
    click.echo(f"renamed {run_id[:8]}: {render.display_text(old)} -> {render.display_text(name)}")
    return 0
