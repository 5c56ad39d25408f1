"""``gitrun metrics RUN [KEY]``: a run's metric series as text."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


@click.command()
@click.argument("run_id")
@click.argument("key", required=False)
@click.option("--csv", "as_csv", is_flag=True, help="CSV: key,step,timestamp,value.")
def metrics(run_id: str, key: str | None, as_csv: bool) -> int:
    """Print every point of a run's metric KEY (all metrics when KEY is omitted)."""
    from gitrun.tracking.search import resolve_run_id

    client = cli_context().reader
    full = resolve_run_id(client.store, run_id)
    keys = [key] if key else sorted(client.get_run(full).data.metrics)
    if as_csv:
        click.echo("key,step,timestamp,value")
    for name in keys:
        history = client.get_metric_history(full, name)
        if not as_csv:
            click.echo(f"{name} ({len(history)} points)")
        for point in history:
            if as_csv:
                click.echo(f"{name},{point.step},{point.timestamp},{point.value!r}")
            else:
                click.echo(f"  step {point.step:>8}  {point.timestamp}  {point.value!r}")
    return 0
