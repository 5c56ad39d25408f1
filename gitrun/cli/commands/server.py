"""``gitrun server``: MLflow's REST API (and the web UI) over this repository."""

from __future__ import annotations

import sys

import click

from gitrun.cli.context import cli_context


def _hash_password() -> int:
    from gitrun.server.mlflow.auth import hash_password

    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("an empty password cannot be hashed")
    click.echo(hash_password(password))
    return 0


@click.command("server")
@click.option(
    "--repo", "repo", type=click.Path(), help="Repository or standalone store to serve (default: here)."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any)."
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=True,
    show_default=True,
    help="Serve the artifact proxy (/api/2.0/mlflow-artifacts) into gitrun's artifact store.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option("--read-only", is_flag=True, help="Refuse every change (clients can only read).")
@click.option(
    "--auth-file",
    envvar="GITRUN_SERVER_AUTH_FILE",
    type=click.Path(dir_okay=False),
    help="YAML file of users and tokens (hashed); every request must then authenticate "
    "[env: GITRUN_SERVER_AUTH_FILE].",
)
@click.option(
    "--max-body-mb",
    default=16.0,
    show_default=True,
    type=click.FloatRange(0.001),
    help="Largest JSON request body.",
)
@click.option("--no-ui", is_flag=True, help="Serve only the MLflow API, not the web UI at /.")
@click.option(
    "--hash-password", is_flag=True, help="Read a password (stdin) and print its hash for --auth-file."
)
def server(
    repo: str | None,
    host: str,
    port: int,
    serve_artifacts: bool,
    workers: int,
    read_only: bool,
    auth_file: str | None,
    max_body_mb: float,
    no_ui: bool,
    hash_password: bool,
) -> int:
    """Serve MLflow's tracking REST API over this repository: any MLflow client logs into git with
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (this machine only unless --host says otherwise)."""
    if hash_password:
        return _hash_password()
    try:
        from gitrun.server.mlflow.api import MlflowSettings
        from gitrun.server.mlflow.serving import ServerConfig, serve
        from gitrun.server.options import ServerOptions
    except ImportError as exc:  # starlette/uvicorn are the `ui` extra
        raise click.ClickException(f"the server needs its extra: pip install 'gitrun[ui]' ({exc})") from None
    from gitrun.tracking.repository import store_path

    path = store_path(repo if repo is not None else cli_context().tracking_uri)
    if host not in ("127.0.0.1", "localhost", "::1") and not auth_file:
        click.echo(
            f"warning: serving on {host} without --auth-file: anyone who can reach it can read and log",
            err=True,
        )
    options = ServerOptions(tracking_uri=path, host=host, port=port, writable=not read_only)
    settings = MlflowSettings(serve_artifacts=serve_artifacts, max_body_bytes=int(max_body_mb * 2**20))
    serve(ServerConfig(options, settings, auth_file, with_ui=not no_ui), workers=workers)
    return 0
