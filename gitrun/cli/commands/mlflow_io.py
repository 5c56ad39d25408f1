"""``gitrun import-mlflow`` and ``gitrun export-mlflow``: to and from MLflow stores."""

from __future__ import annotations

import click

from gitrun.cli.context import cli_context


@click.command("import-mlflow")
@click.argument("source")
@click.option("--experiment", "experiments", multiple=True, help="Import only this experiment (repeatable).")
@click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing.")
@click.option(
    "--artifacts-root",
    type=click.Path(file_okay=False),
    help="Local folder of the MLflow server's proxied artifacts (mlflow-artifacts:/ URIs).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
def import_mlflow(
    source: str,
    experiments: tuple[str, ...],
    dry_run: bool,
    artifacts_root: str | None,
    progress: bool | None,
) -> int:
    """Import the experiments and runs of an MLflow store into this repository.

    SOURCE is an mlruns folder (or file: URI), a database URI (sqlite:///mlflow.db, or any
    SQLAlchemy URI whose driver is installed), or an MLflow server (http://host:5000).
    Run ids are kept; importing again adds only what changed; an interrupted import resumes.
    """
    import sys

    from tqdm import tqdm

    from gitrun.migrate.importer import import_store, open_source

    reader = open_source(source, artifacts_root)
    store = cli_context().client.store
    show = progress if progress is not None else sys.stderr.isatty()
    bar = tqdm(total=0, unit="run", desc="importing", disable=not show or dry_run, file=sys.stderr)
    try:
        summary = import_store(
            store,
            reader,
            experiments=experiments,
            dry_run=dry_run,
            progress=bar.update,
            on_total=lambda n: setattr(bar, "total", n),
        )
    finally:
        bar.close()
        reader.close()
    for line in summary.lines(dry_run):
        click.echo(line)
    return 0


@click.command("export-mlflow")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--experiment", "experiments", multiple=True, help="Export only this experiment (repeatable).")
def export_mlflow(dest: str, experiments: tuple[str, ...]) -> int:
    """Write this repository's runs into an MLflow file store at DEST (an mlruns folder).

    MLflow reads it with MLFLOW_TRACKING_URI=file:DEST (and MLFLOW_ALLOW_FILE_STORE=true
    for MLflow 3); `mlflow server --backend-store-uri file:DEST` serves it to MLflow's UI.
    """
    from gitrun.migrate.exporter import export_store

    summary = export_store(cli_context().client.store, dest, experiments=experiments)
    click.echo(f"exported {summary.experiments} experiment(s), {summary.runs} run(s) to {dest}")
    return 0
