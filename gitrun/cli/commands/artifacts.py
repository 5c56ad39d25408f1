"""``gitrun artifacts ls|get|push|fetch``: a run's artifacts, and moving their objects."""

from __future__ import annotations

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context


def fmt_size(size: int | None) -> str:
    """Bytes for people: ``512 B``, ``1.5 MiB``."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _run_id(text: str) -> str:
    return cli_context().run_id(text)


@click.group("artifacts")
def artifacts() -> None:
    """List, download and move the artifacts of runs."""


@artifacts.command("ls")
@click.argument("run")
@click.argument("path", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def ls(run: str, path: str | None, as_json: bool) -> int:
    """List what is directly under PATH (default: the root) in RUN's artifacts, with the
    digest `gitrun pull` takes (a folder logged as a whole has its manifest's digest)."""
    from gitrun.errors import ResourceDoesNotExist
    from gitrun.tracking.artifacts.records import read_entries, run_tree
    from gitrun.tracking.entities import FileInfo

    obj = cli_context()
    client = obj.reader
    run_id = obj.run_id(run)
    found = client.list_artifacts(run_id, path)
    tree, entries = run_tree(client.store, run_id), read_entries(client.store, run_id)

    def digest(path: str, is_dir: bool) -> str | None:
        if is_dir:
            entry = entries.get(path)
            return str(entry.digest) if entry is not None and entry.is_dir else None
        return str(tree.files[path].digest) if path in tree.files else None

    if path is not None and not found:
        if path.strip("/") in tree.files:
            item = tree.files[path.strip("/")]
            found = [FileInfo(path.strip("/"), False, item.size)]
        else:
            top = ", ".join(f.path + ("/" if f.is_dir else "") for f in client.list_artifacts(run_id)[:8])
            raise ResourceDoesNotExist(
                f"run {run_id[:8]} has no artifact or folder '{path}'"
                + (f" (top level: {top})" if top else " (it has no artifacts)")
            )
    if as_json:
        render.write_json(
            [
                {
                    "path": f.path,
                    "is_dir": f.is_dir,
                    "file_size": f.file_size,
                    "digest": digest(f.path, f.is_dir),
                }
                for f in found
            ]
        )
        return 0
    if not found:
        click.echo("No artifacts.")
        return 0
    rows = [
        [f.path + ("/" if f.is_dir else ""), fmt_size(f.file_size), digest(f.path, f.is_dir) or ""]
        for f in found
    ]
    cols = [render.Column("path"), render.Column("size", right=True), render.Column("digest", keep=True)]
    render.print_table(cols, rows, color=obj.color)
    return 0


@artifacts.command("get")
@click.argument("run")
@click.argument("path")
@click.option("-o", "--output", "dest", type=click.Path(), help="Folder to download into (default: .).")
def get(run: str, path: str, dest: str | None) -> int:
    """Download PATH (a file or folder) of RUN's artifacts, verified; print where it went."""
    written = cli_context().client.download_artifacts(_run_id(run), path, dest or ".")
    click.echo(written)
    return 0


def _report(verb: str, report: object) -> int:
    from gitrun.tracking.artifacts.transfer import TransferReport

    assert isinstance(report, TransferReport)
    if report.store is None:
        raise click.UsageError("no artifact remote is configured: gitrun config artifacts.remote URL")
    click.echo(
        f"{verb} {len(report.copied)} of {report.referenced} referenced object(s) "
        f"({fmt_size(report.bytes)}) {'to' if verb == 'pushed' else 'from'} {report.store}"
    )
    for digest in report.missing[:10]:
        click.echo(f"missing everywhere: {digest}", err=True)
    if report.missing:
        click.echo(f"gitrun: {len(report.missing)} referenced object(s) are in no store", err=True)
        return 1
    return 0


@artifacts.command("push")
@click.option("--remote", "remote_url", metavar="URL", help="Store URL (default: the configured remote).")
def push(remote_url: str | None) -> int:
    """Upload the objects that runs reference and the remote lacks."""
    from gitrun.tracking.artifacts.transfer import push_referenced

    return _report("pushed", push_referenced(cli_context().client.store, None, remote_url))


@artifacts.command("fetch")
@click.argument("runs", nargs=-1)
@click.option("--remote", "remote_url", metavar="URL", help="Store URL (default: the configured remote).")
def fetch(runs: tuple[str, ...], remote_url: str | None) -> int:
    """Download the objects RUNS (default: all runs) reference that are not local."""
    from gitrun.tracking.artifacts.transfer import fetch_referenced

    ids = [_run_id(r) for r in runs] or None
    return _report("fetched", fetch_referenced(cli_context().client.store, ids, remote_url))
