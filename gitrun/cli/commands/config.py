"""``gitrun config``: the repository's committed settings (the artifact remote)."""

from __future__ import annotations

import json

import click

from gitrun.cli.context import cli_context

KEYS = ("artifacts.remote", "artifacts.options.<name>")


@click.command("config")
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.option("--unset", is_flag=True, help="Remove KEY.")
def config(key: str | None, value: str | None, unset: bool) -> int:
    """Show or set KEY in .gitrun.yaml (commit it so that clones use the same remote);
    with no KEY, list every setting and where it comes from.

    Keys: artifacts.remote (a store URL, e.g. s3://bucket/prefix) and
    artifacts.options.<name> (an fsspec option such as endpoint_url). Credentials are
    refused: they come from the environment.
    """
    from gitrun.tracking import settings

    if value is not None and unset:
        raise click.UsageError("give a VALUE or --unset, not both")
    reading = value is None and not unset
    obj = cli_context()
    store = (obj.reader if reading else obj.client).store
    remote, options = settings.file_settings(store)
    if key is None:
        if unset:
            raise click.UsageError("--unset needs a KEY")
        return _list(remote, options)
    if key == "artifacts.remote":
        if value is None and not unset:
            if remote is not None:
                click.echo(remote)
            return 0 if remote is not None else 1
        remote = None if unset else value
        options = {} if unset else options
    elif key.startswith("artifacts.options.") and len(key) > len("artifacts.options."):
        name = key[len("artifacts.options.") :]
        if value is None and not unset:
            if name in options:
                click.echo(json.dumps(options[name]) if not isinstance(options[name], str) else options[name])
            return 0 if name in options else 1
        if remote is None:
            raise click.UsageError("set artifacts.remote first")
        if unset or value is None:
            options.pop(name, None)
        else:
            options[name] = settings.typed_value(value)  # `anon false` stores a boolean
    else:
        raise click.UsageError(f"unknown key {key!r}; known: {', '.join(KEYS)}")
    path = settings.save_settings(store, remote, options)
    hint = "; commit it so that clones use the same store" if store.repo.work_tree else ""
    click.echo(f"wrote {path}{hint}")
    return 0


def _list(remote: str | None, options: dict[str, object]) -> int:
    """Every setting, as ``key = value`` lines; the environment's overrides noted."""
    import os

    if remote is None and not options:
        click.echo("(no settings: the artifacts stay in the local store; gitrun config artifacts.remote URL)")
    if remote is not None:
        click.echo(f"artifacts.remote = {remote}")
    for name, value in sorted(options.items()):
        click.echo(f"artifacts.options.{name} = {value if isinstance(value, str) else json.dumps(value)}")
    for env in ("GITRUN_ARTIFACT_STORE", "GITRUN_ARTIFACT_STORE_OPTIONS"):
        if os.environ.get(env):
            shown = os.environ[env] if env == "GITRUN_ARTIFACT_STORE" else "(set; not shown)"
            click.echo(f"{env} = {shown}  (environment; overrides the file)")
    return 0
