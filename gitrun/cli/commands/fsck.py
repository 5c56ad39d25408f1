"""``gitrun fsck``: re-hash artifact objects, quarantine corrupt ones."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


@click.command("fsck")
@click.option("--remote", is_flag=True, help="Also check the artifact remote (downloads every object).")
def fsck(remote: bool) -> int:
    """Re-hash every artifact object; move corrupt ones to quarantine; exit 1 if any."""
    from gitrun.tracking.artifacts.maintenance import check_stores

    status = 0
    for url, report in check_stores(cli_context().reader.store, remote=remote):
        click.echo(f"{url}: checked {report.checked} object(s), {len(report.corrupt)} corrupt")
        for bad in report.corrupt:
            click.echo(f"corrupt: {bad.digest} in {url}, quarantined as {bad.quarantine_key}", err=True)
        for key in report.stray_keys:
            click.echo(f"  stray (interrupted write, removed by gitrun gc): {key}")
        if not report.ok:
            status = 1
    return status
