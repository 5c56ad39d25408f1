"""``gitrun ui``: browse, chart and compare runs in a web browser."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=5050, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any)."
)
@click.option(
    "--repo", "repo", type=click.Path(), help="Repository or standalone store to show (default: here)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the UI in a web browser.")
@click.option("--writable", is_flag=True, help="Allow notes, tags, renames, deleting and restoring runs.")
def ui(host: str, port: int, repo: str | None, open_browser: bool, writable: bool) -> int:
    """Serve the web UI (read-only unless --writable; this machine only unless --host says otherwise)."""
    try:
        from gitrun.server.options import ServerOptions
        from gitrun.server.serve import serve
    except ImportError as exc:  # starlette/uvicorn/numpy are the `ui` extra
        raise click.ClickException(f"the web UI needs its extra: pip install 'gitrun[ui]' ({exc})") from None
    from gitrun.tracking.overview import open_existing

    uri = repo if repo is not None else cli_context().tracking_uri
    path = open_existing(uri)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}: anyone who can reach it can read these runs", err=True)
    serve(
        ServerOptions(tracking_uri=path, host=host, port=port, writable=writable), open_browser=open_browser
    )
    return 0
