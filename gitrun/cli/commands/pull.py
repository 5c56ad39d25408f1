"""``gitrun pull HASH``: any artifact object or directory, by its address, verified."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


@click.command("pull")
@click.argument("digest", metavar="HASH")
@click.option(
    "-o", "--output", type=click.Path(), help="Where to write it (default: ./<first 12 hex digits>)."
)
def pull(digest: str, output: str | None) -> int:
    """Fetch the object HASH (sha256:<hex>, or a unique prefix of 8+ hex digits among
    local objects) from the local store or the artifact remote, verify it and write it
    atomically; a directory manifest becomes a directory."""
    from gitrun.tracking.artifacts.objects import pull as pull_object

    path, files = pull_object(cli_context().client.store, digest, output)
    click.echo(f"{path}" if files == 1 and not path.is_dir() else f"{path} ({files} files)")
    return 0
