"""``gitrun models``: the model registry (list, show, register, alias, history)."""

from __future__ import annotations

import datetime
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context


def _when(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def version_json(version: Any) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "source": version.source,
        "run_id": version.run_id,
        "model_id": version.model_id,
        "model_digest": version.model_digest,
        "aliases": version.aliases,
        "user_id": version.user_id,
        "created": version.creation_timestamp,
        "description": version.description,
        "tags": version.tags,
    }


@click.group("models")
def models() -> None:
    """The model registry: registered models, versions and aliases (kept in git)."""


@models.command("ls")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def ls(as_json: bool) -> int:
    """List registered models with their latest version and aliases."""
    ctx = cli_context()
    found = list(ctx.reader.search_registered_models(max_results=None))  # type: ignore[arg-type]
    if as_json:
        render.write_json(
            [
                {
                    "name": m.name,
                    "latest_version": m.latest_versions[0].version if m.latest_versions else None,
                    "aliases": m.aliases,
                    "description": m.description,
                    "tags": m.tags,
                }
                for m in found
            ]
        )
        return 0
    rows = [
        [
            m.name,
            str(m.latest_versions[0].version) if m.latest_versions else "-",
            ", ".join(f"{a}={n}" for a, n in m.aliases.items()) or "-",
            _when(m.last_updated_timestamp),
        ]
        for m in found
    ]
    render.print_table(["name", "latest", "aliases", "updated (UTC)"], rows, color=ctx.color, title="models")
    return 0


@models.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def show(name: str, as_json: bool) -> int:
    """Show a registered model's versions (source run, digest, aliases)."""
    ctx = cli_context()
    model = ctx.reader.get_registered_model(name)
    versions = sorted(
        (v for v in ctx.reader.search_model_versions() if v.name == name), key=lambda v: v.version
    )
    if as_json:
        render.write_json(
            {
                "name": model.name,
                "description": model.description,
                "tags": model.tags,
                "aliases": model.aliases,
                "versions": [version_json(v) for v in versions],
            }
        )
        return 0
    rows = [
        [
            str(v.version),
            ", ".join(v.aliases) or "-",
            v.source,
            (v.model_digest or "")[:19],
            v.user_id,
            _when(v.creation_timestamp),
        ]
        for v in sorted(versions, key=lambda v: v.version)
    ]
    render.print_table(
        ["version", "aliases", "source", "digest", "by", "created (UTC)"], rows, color=ctx.color, title=name
    )
    return 0


@models.command("register")
@click.argument("model_uri")
@click.argument("name")
def register(model_uri: str, name: str) -> int:
    """Register MODEL_URI (runs:/<run_id>/<name> or models:/<model_id>) as a new version of NAME."""
    version = cli_context().client.register_model(model_uri, name)
    click.echo(f"registered {name} version {version.version} ({version.model_digest})")
    return 0


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias.")
def alias(name: str, alias: str, version: str | None, delete: bool) -> int:
    """Point ALIAS of NAME at VERSION (``gitrun models alias churn champion 3``), or --delete it."""
    client = cli_context().client
    if delete:
        client.delete_registered_model_alias(name, alias)
        click.echo(f"removed {name}@{alias}")
        return 0
    if version is None:
        current = client.get_model_version_by_alias(name, alias)
        click.echo(f"{name}@{alias} -> version {current.version}")
        return 0
    client.set_registered_model_alias(name, alias, version)
    click.echo(f"{name}@{alias} -> version {version}")
    return 0


@models.command("log")
def history() -> int:
    """Every registry change, newest first: who did what, when (the registry ref's git log)."""
    for commit, author, message in cli_context().reader.registry_history():
        who, when, _zone = author.rsplit(" ", 2)
        click.echo(f"{commit[:12]}  {_when(int(when) * 1000)}  {who}\n    {message.splitlines()[0]}")
    return 0
