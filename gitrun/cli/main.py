"""The root command group; the only module that knows every command."""

from __future__ import annotations

import os
import sys

import click

from gitrun._version import __version__
from gitrun.cli.commands import (
    artifacts,
    compare,
    config,
    demo,
    diff,
    experiments,
    fsck,
    gc,
    hooks,
    manage,
    metrics,
    mlflow_io,
    models,
    plot,
    pull,
    reproduce,
    run,
    runs,
    server,
    show,
    sync,
    ui,
)
from gitrun.cli.context import CliContext, terminal_width, want_color
from gitrun.cli.errors import run_guarded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitrun")
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, exists=True),
    help="Run as if started in this directory (like git -C).",
)
@click.option(
    "--tracking-uri",
    envvar="GITRUN_TRACKING_URI",
    help="Repository or standalone store to use [env: GITRUN_TRACKING_URI].",
)
@click.option(
    "--color/--no-color", default=None, help="Colour output (default: on a terminal, unless NO_COLOR is set)."
)
@click.option(
    "--no-pager",
    is_flag=True,
    envvar="GITRUN_NO_PAGER",
    help="Do not page long output (default pager: GITRUN_PAGER, core.pager, PAGER, less).",
)
@click.pass_context
def cli(
    ctx: click.Context, directory: str | None, tracking_uri: str | None, color: bool | None, no_pager: bool
) -> None:
    """Experiment tracking and reproducibility, stored in git.

    \b
    Which run is best, and did it converge?
      gitrun runs ls -e EXP --order-by "metrics.val_acc DESC"    leaderboard
      gitrun compare @ @~1                                       the two newest runs
      gitrun plot RUN... val_loss                                curves in the terminal
      gitrun metrics RUN val_loss                                every point
    RUN is an id, a unique id prefix, a run name, latest (or @) or @~N.
    """
    if directory:
        os.chdir(directory)
    ctx.color = want_color(color)  # click.echo keeps or strips ANSI codes by this
    ctx.obj = CliContext(
        tracking_uri, want_color(color), width=terminal_width(), pager=not no_pager, color_flag=color
    )
    _quiet_warnings()


def _quiet_warnings() -> None:
    """gitrun's warnings as one line on stderr, not Python's "file:line: UserWarning" form."""
    import warnings

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        text = str(message)
        click.echo(text if text.startswith("gitrun:") else f"gitrun: warning: {text}", err=True)

    warnings.showwarning = show


@click.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_cmd(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show help for gitrun or one of its commands (gitrun help runs ls)."""
    target: click.Command = cli
    current = click.Context(cli, info_name="gitrun")
    for name in command:
        found = target.get_command(current, name) if isinstance(target, click.Group) else None
        if found is None:
            path = " ".join([*command[: command.index(name)], name])
            raise click.UsageError(f"no such command: {path} (see `gitrun help`)")
        target = found
        current = click.Context(target, info_name=name, parent=current)
    click.echo(target.get_help(current))


cli.add_command(demo.demo)
cli.add_command(run.run)
cli.add_command(reproduce.checkout_cmd)
cli.add_command(reproduce.reproduce_cmd)
cli.add_command(sync.push)
cli.add_command(sync.fetch)
cli.add_command(hooks.hooks)
cli.add_command(metrics.metrics)
cli.add_command(models.models)
cli.add_command(runs.runs)
cli.add_command(show.show)
cli.add_command(compare.compare)
cli.add_command(experiments.experiments)
cli.add_command(artifacts.artifacts)
cli.add_command(pull.pull)
cli.add_command(gc.gc)
cli.add_command(fsck.fsck)
cli.add_command(config.config)
cli.add_command(ui.ui)
cli.add_command(help_cmd)
runs.runs.add_command(runs.ls, "list")
for _command in (manage.rm, manage.restore, manage.tag, manage.rename):
    runs.runs.add_command(_command)
cli.add_command(plot.plot)
cli.add_command(diff.diff)
cli.add_command(server.server)
cli.add_command(mlflow_io.import_mlflow)
cli.add_command(mlflow_io.export_mlflow)


def _invoke() -> None:
    try:
        result = cli.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    sys.exit(result if isinstance(result, int) else 0)


def main() -> None:
    """Entry point of the ``gitrun`` console script."""
    from gitrun.cli import output

    output.install()
    run_guarded(_invoke)
