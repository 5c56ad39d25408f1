"""``gitrun push [REMOTE]`` and ``gitrun fetch [REMOTE]``."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


def _runs(count: int) -> str:
    return f"{count:,} run{'s' if count != 1 else ''}"


@click.command()
@click.argument("remote", default="origin")
def push(remote: str) -> int:
    """Push runs to REMOTE (a remote name or any git URL), their artifacts first (also
    any artifact earlier pushes could not upload)."""
    from gitrun.cli.commands.artifacts import fmt_size
    from gitrun.tracking import sharing

    report = sharing.push(cli_context().client, remote)
    if report.action == "up-to-date":
        text = f"{remote}: up to date (no run to push)"
    else:
        text = f"{_runs(report.runs)} pushed to {remote}"
    if report.artifacts:
        text += f"; {report.artifacts:,} artifact object(s) uploaded ({fmt_size(report.artifact_bytes)})"
    click.echo(text)
    return 0


@click.command()
@click.argument("remote", default="origin")
def fetch(remote: str) -> int:
    """Fetch runs from REMOTE and merge them with the local ones (branches untouched)."""
    from gitrun.tracking import sharing

    report = sharing.fetch(cli_context().client, remote)
    if report.runs == 0:
        click.echo(f"{remote}: up to date (no new runs)")
    else:
        click.echo(f"{_runs(report.runs)} fetched from {remote} ({report.action})")
    return 0
