"""``gitrun run -- COMMAND``: record a run around any command."""

from __future__ import annotations

import contextlib

import click

from gitrun.cli.context import cli_context


def resolve_experiment(client: object, experiment: str | None) -> str:
    """An experiment given by name (created if missing) or id; None: the default."""
    from gitrun.errors import ResourceAlreadyExists
    from gitrun.tracking.client import Client

    assert isinstance(client, Client)
    if experiment is None:
        from gitrun.tracking import fluent

        return fluent._resolve_experiment_id()
    found = client.get_experiment_by_name(experiment)
    if found is None and experiment.isdigit():
        from gitrun.errors import ResourceDoesNotExist

        with contextlib.suppress(ResourceDoesNotExist):  # not an id either: create it by name
            return client.get_experiment(experiment).experiment_id
    if found is None:
        try:
            client.create_experiment(experiment)
        except ResourceAlreadyExists:
            pass
        found = client.get_experiment_by_name(experiment)
    assert found is not None
    return found.experiment_id


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-e", "--experiment", help="Experiment name (created if missing) or id.")
@click.option("-n", "--name", "run_name", help="Run name.")
@click.option("-P", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A param (repeatable).")
@click.option(
    "--params-file",
    type=click.Path(dir_okay=False, exists=True),
    help="YAML or JSON file of params (nested keys joined with '.').",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(exists=True),
    help="Input data to hash, store and record (repeatable).",
)
@click.option("-t", "--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag (repeatable).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    experiment: str | None,
    run_name: str | None,
    params: tuple[str, ...],
    params_file: str | None,
    inputs: tuple[str, ...],
    tags: tuple[str, ...],
    command: tuple[str, ...],
) -> int:
    """Run COMMAND as a recorded run.

    The command sees GITRUN_RUN_ID (gitrun calls inside it log to this run),
    GITRUN_PARAMS (JSON) and GITRUN_PARAM_<NAME>; {name} in its arguments is replaced
    by the param's value. Its output is shown and saved as the artifact
    gitrun-run.log; its exit code decides the status and is gitrun's exit code.
    """
    from gitrun.tracking import command as cmd

    client = cli_context().client
    parsed = cmd.parse_params(params, params_file)
    tag_map = dict(cmd.parse_params(tags, None))
    experiment_id = resolve_experiment(client, experiment)
    result = cmd.run_command(
        client,
        list(command),
        experiment_id=experiment_id,
        run_name=run_name,
        params=parsed,
        tags=tag_map,
        inputs=inputs,
    )
    click.echo(f"gitrun: run {result.run_id} {result.status} (exit code {result.returncode})", err=True)
    if result.returncode < 0:
        return 128 - result.returncode
    return result.returncode
