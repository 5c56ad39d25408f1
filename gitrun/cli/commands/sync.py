"""``gitrun push [REMOTE]`` and ``gitrun fetch [REMOTE]``."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


@click.command()
@click.argument("remote", default="origin")
def push(remote: str) -> int:
    """Push runs to REMOTE (a remote name or any git URL), artifacts first."""
    from gitrun.tracking import sharing

    result = sharing.push(cli_context().client, remote)
    click.echo(f"runs {result.action}: {remote} at {(result.after or '')[:12] or '(no runs)'}")
    return 0


@click.command()
@click.argument("remote", default="origin")
def fetch(remote: str) -> int:
    """Fetch runs from REMOTE and merge them with the local ones (branches untouched)."""
    from gitrun.tracking import sharing

    result = sharing.fetch(cli_context().client, remote)
    click.echo(f"runs {result.action}: {(result.after or '')[:12] or '(no runs)'} (from {remote})")
    return 0
