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

        return fluent.resolve_experiment_id()
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


class _RunCommand(click.Command):
    """``gitrun run`` takes its command after ``--``: without it, ``gitrun run ls`` (meant:
    ``gitrun runs ls``) would record a run of ``ls``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args and not any(a in ("-h", "--help") for a in args):
            words = [a for a in args if not a.startswith("-")]
            parent = ctx.parent.command if ctx.parent is not None else None
            hint = ""
            if words and words[0] in ("ls", "list"):
                hint = f" Did you mean `gitrun runs {' '.join(words)}`?"
            elif words and isinstance(parent, click.Group) and words[0] in parent.commands:
                hint = f" Did you mean `gitrun {' '.join(words)}`?"
            example = (
                f"gitrun run -- {' '.join(words)}" if words else "gitrun run -P lr=0.1 -- python train.py"
            )
            raise click.UsageError(
                f"gitrun run needs `--` before the command to record, e.g. {example}.{hint}", ctx
            )
        return super().parse_args(ctx, args)


@click.command(
    cls=_RunCommand, context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False}
)
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
    from gitrun.cli.commands.show import exit_text
    from gitrun.tracking import command as cmd

    if not command:
        raise click.UsageError("gitrun run needs a command after `--`, e.g. gitrun run -- python train.py")
    client = cli_context().client
    parsed = cmd.parse_params(params, params_file)
    tag_map = dict(cmd.parse_params(tags, None))
    cmd.check_startable(list(command))
    experiment_id = resolve_experiment(client, experiment)
    result = cmd.run_command(
        client,
        list(command),
        experiment_id=experiment_id,
        run_name=run_name,
        params=parsed,
        tags=tag_map,
        inputs=inputs,
        movable=experiment is None,
    )
    final = client.get_run(result.run_id)
    where = ""
    if final.info.experiment_id != experiment_id:
        name = client.get_experiment(final.info.experiment_id).name
        where = f" in experiment {name} (set by the script)"
    click.echo(
        f"gitrun: run {result.run_id} {final.info.run_name} {result.status} "
        f"({exit_text(result.returncode)}){where}",
        err=True,
    )
    if run_name is not None and final.info.run_name != run_name:
        click.echo(
            f"gitrun: note: the script named the run {final.info.run_name!r}, replacing -n {run_name!r}",
            err=True,
        )
    if result.returncode < 0:
        return 128 - result.returncode
    return result.returncode
