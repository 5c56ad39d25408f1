"""``gitrun pull HASH`` / ``gitrun pull RUN:PATH``: an artifact by its address or by its
place in a run, verified."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context
from gitrun.errors import InvalidParameterValue


@click.command("pull")
@click.argument("address", metavar="HASH|RUN:PATH")
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Where to write it (default: the name a run logged it under, in the current folder).",
)
def pull(address: str, output: str | None) -> int:
    """Fetch an artifact from the local store or the artifact remote, verify it and write
    it atomically: by its digest (sha256:<hex>, or a unique prefix of 8+ hex digits among
    local objects), or as RUN:PATH (gitrun pull best-run:model/model.pkl). A directory
    manifest becomes a directory. Runs themselves come with `gitrun fetch`."""
    from gitrun.tracking import sharing

    obj = cli_context()
    client = obj.client
    if address in sharing.remote_names(client):
        raise InvalidParameterValue(
            f"'{address}' is a git remote: runs come with `gitrun fetch {address}` (and go with "
            f"`gitrun push {address}`); `gitrun pull` fetches one artifact, by digest (sha256:...) "
            "or RUN:PATH"
        )
    run_part, sep, path = address.partition(":")
    if sep and not _looks_like_digest(run_part, path):
        if not path:
            raise InvalidParameterValue(
                f"{address!r}: give a path after the colon, e.g. {run_part}:model.pkl"
            )
        written = client.download_artifacts(obj.run_id(run_part), path, output or ".")
        click.echo(written)
        return 0
    from gitrun.tracking.artifacts.naming import logged_name
    from gitrun.tracking.artifacts.objects import pull as pull_object
    from gitrun.tracking.artifacts.objects import resolve_digest
    from gitrun.tracking.artifacts.stores import stores_for

    note = ""
    if output is None:
        digest = resolve_digest(stores_for(client.store), address)
        output = logged_name(client.store, digest)
        if output is None:
            note = " (no run names this object: written under its digest)"
    target, files = pull_object(client.store, address, output)
    click.echo((f"{target}" if files == 1 and not target.is_dir() else f"{target} ({files} files)") + note)
    return 0


def _looks_like_digest(prefix: str, rest: str) -> bool:
    """``sha256:9f86...`` (or another algorithm's name and hex), not ``RUN:PATH``."""
    import re

    return bool(re.fullmatch(r"[a-z][a-z0-9]*", prefix) and re.fullmatch(r"[0-9a-fA-F]{8,}", rest)) and (
        prefix == "sha256" or not _is_run(prefix)
    )


def _is_run(text: str) -> bool:
    from gitrun.errors import GitrunError

    try:
        cli_context().run_id(text)
    except GitrunError:
        return False
    return True
