"""``gitrun checkout RUN`` and ``gitrun reproduce RUN``."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


def _echo_checkout(checkout: object) -> None:
    from gitrun.tracking.reproduce import SIDECAR, Checkout

    assert isinstance(checkout, Checkout)
    run = checkout.run
    click.echo(f"Checked out the code of run {run.info.run_id} ({run.info.run_name}) in {checkout.directory}")
    click.echo(
        f"  commit {checkout.commit[:12]} = {checkout.base_commit or '(no commit)'}"
        f"{' + uncommitted changes' if checkout.run.record.get('code', {}).get('dirty') else ''}"
    )
    click.echo(f"  params: {checkout.directory}/{SIDECAR}/params.json")
    for path in checkout.inputs:
        click.echo(f"  input restored (verified): {path}")
    click.echo(f"  packages: {checkout.directory}/{SIDECAR}/requirements.txt")
    if checkout.command:
        from gitrun.core.records.text import shell_join, shell_quote

        click.echo(f"  started as: (cd {shell_quote(checkout.cwd)} && {shell_join(checkout.command)})")
    else:
        click.echo("  started as: (no command recorded: the run was not started from a script)")
    if checkout.environment_changes:
        click.echo(f"  environment differs from the run's in {len(checkout.environment_changes)} place(s):")
        for what, then, now in checkout.environment_changes[:25]:
            click.echo(f"    {what}: {then or '(absent)'} -> {now or '(absent)'}")
        if len(checkout.environment_changes) > 25:
            click.echo(f"    ... and {len(checkout.environment_changes) - 25} more")
    else:
        click.echo("  environment: same Python, platform and packages as the run")


@click.command("checkout")
@click.argument("run_id")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of the new worktree.")
def checkout_cmd(run_id: str, directory: str | None) -> int:
    """Check out a run's exact code (commit + uncommitted changes) in a new git worktree."""
    from gitrun.tracking import reproduce
    from gitrun.tracking.search import resolve_run_id

    client = cli_context().client
    full = resolve_run_id(client.store, run_id)
    _echo_checkout(reproduce.checkout(client, full, directory))
    return 0


@click.command("reproduce")
@click.argument("run_id")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of the new worktree.")
@click.option("--run", "execute", is_flag=True, help="Re-execute the recorded command as a new run.")
@click.option("--verify", is_flag=True, help="With --run: compare every metric with the original's.")
@click.option(
    "--tolerance",
    type=float,
    default=0.0,
    show_default=True,
    help="Largest absolute difference --verify accepts.",
)
def reproduce_cmd(run_id: str, directory: str | None, execute: bool, verify: bool, tolerance: float) -> int:
    """Reproduce a run: its code in a new worktree, its params and inputs; optionally
    re-run it (--run) and check its metrics (--verify)."""
    from gitrun.tracking import reproduce
    from gitrun.tracking.search import resolve_run_id

    if verify and not execute:
        raise click.UsageError("--verify needs --run")
    client = cli_context().client
    full = resolve_run_id(client.store, run_id)
    checkout = reproduce.checkout(client, full, directory)
    _echo_checkout(checkout)
    if not execute:
        return 0
    result = reproduce.rerun(client, checkout)
    click.echo(f"Reproduction run {result.run_id}: {result.status} (exit code {result.returncode})")
    if not verify:
        return 0 if result.returncode == 0 else 1
    return _report(reproduce.verify(client, full, result.run_id, tolerance), tolerance)


def _report(checks: list, tolerance: float) -> int:  # type: ignore[type-arg]
    from rich.console import Console
    from rich.table import Table

    from gitrun.core.records.text import printable

    table = Table(title=f"Metrics: original vs reproduction (tolerance {tolerance:g})")
    for column in ("metric", "original", "reproduced", "points", "result"):
        table.add_column(column)
    for check in checks:
        table.add_row(
            printable(check.key),
            repr(check.original),
            repr(check.reproduced),
            f"{check.points[0]} / {check.points[1]}",
            "same" if check.ok else "DIFFERENT",
        )
    Console(no_color=not cli_context().color, width=120).print(table)
    failed = [c.key for c in checks if not c.ok]
    if failed:
        click.echo(f"gitrun: {len(failed)} metric(s) differ: {', '.join(failed)}", err=True)
        return 1
    click.echo("All metrics reproduced.")
    return 0
