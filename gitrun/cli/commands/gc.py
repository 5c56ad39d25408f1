"""``gitrun gc``: remove local artifact objects that no run references."""

from __future__ import annotations

import click

from gitrun.cli.commands.artifacts import fmt_size
from gitrun.cli.context import cli_context


@click.command("gc")
@click.option("-n", "--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option(
    "--remote",
    is_flag=True,
    help="Also remove unreferenced objects from the artifact remote (only when every machine "
    "has pushed its runs: unpushed runs may reference uploaded objects).",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=3600,
    show_default=True,
    help="Keep local objects written or re-used in the last SECONDS.",
)
def gc(dry_run: bool, remote: bool, grace: float) -> int:
    """Remove local artifact objects no run references, and stale temporary files."""
    from gitrun.tracking.artifacts.maintenance import collect_garbage

    reports = collect_garbage(cli_context().client.store, dry_run=dry_run, remote=remote, grace=grace)
    verb = "would remove" if dry_run else "removed"
    for report in reports:
        # Counted like `gitrun fsck`: objects present in the store.
        click.echo(
            f"{report.store}: {report.present} object(s); {verb} {len(report.removed)} "
            f"({fmt_size(report.removed_bytes)}), kept {report.kept} ({report.referenced_present} referenced"
            + (f", {report.recent} recent" if report.recent else "")
            + f"); {len(report.temp_files)} temporary file(s) {verb}"
        )
        if dry_run:
            for digest in report.removed:
                click.echo(f"  {digest}")
    return 0
