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
    experiments,
    fsck,
    gc,
    hooks,
    metrics,
    mlflow_io,
    pull,
    reproduce,
    run,
    runs,
    server,
    show,
    sync,
    ui,
)
from gitrun.cli.context import CliContext
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
@click.option("--color/--no-color", default=None, help="Colour output (default: only on a terminal).")
@click.pass_context
def cli(ctx: click.Context, directory: str | None, tracking_uri: str | None, color: bool | None) -> None:
    """Experiment tracking and reproducibility, stored in git."""
    if directory:
        os.chdir(directory)
    ctx.obj = CliContext(tracking_uri, color if color is not None else sys.stdout.isatty())


cli.add_command(demo.demo)
cli.add_command(run.run)
cli.add_command(reproduce.checkout_cmd)
cli.add_command(reproduce.reproduce_cmd)
cli.add_command(sync.push)
cli.add_command(sync.fetch)
cli.add_command(hooks.hooks)
cli.add_command(metrics.metrics)
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
    run_guarded(_invoke)
