"""``gitrun runs ls``: find runs with MLflow filter strings; a leaderboard, JSON, CSV or Markdown."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import GitrunError, InvalidParameterValue

_ATTRIBUTES = (
    "run_id",
    "run_name",
    "experiment_id",
    "status",
    "lifecycle_stage",
    "user_id",
    "start_time",
    "end_time",
    "duration",
    "artifact_uri",
    "parent",
)
_ALIASES = {
    "name": "run_name",
    "id": "run_id",
    "run": "run_id",
    "start": "start_time",
    "end": "end_time",
    "user": "user_id",
    "experiment": "experiment_id",
}
_DEFAULT_COLUMNS = ("run_id", "run_name", "status", "start_time", "duration")
_HEADERS = {"run_id": "run", "run_name": "name", "start_time": "started", "end_time": "ended"}
_KEEP = {"run_id", "run_name", "start_time", "end_time", "status", "duration", "parent"}
_PREFIXES = {"metrics": "metric", "params": "param", "tags": "tag"}


def resolve_experiments(client: Any, names_or_ids: Sequence[str]) -> list[str]:
    """Experiment ids for ``-e`` values (a name or an id each); all active ones for none."""
    from gitrun.tracking import search
    from gitrun.tracking.selection import resolve_experiment

    if not names_or_ids:
        return [e.experiment_id for e in search.all_experiments(client)]
    return [resolve_experiment(client.store, text).experiment_id for text in names_or_ids]


def parse_columns(specs: Sequence[str], runs: Sequence[Any] = (), store: Any = None) -> list[str]:
    """``--columns`` values (comma-separated, repeatable) as canonical column names.

    ``metrics.*``-style globs expand to the matching keys of ``runs``; a key no run has
    is an error with the closest existing key (when ``store`` is given)."""
    out: list[str] = []
    for spec in specs:
        for raw in spec.split(","):
            name = _ALIASES.get(raw.strip(), raw.strip())
            if not name:
                continue
            entity, _, key = name.partition(".")
            if name in _ATTRIBUTES:
                out.append(name)
                continue
            if entity not in _PREFIXES or not key:
                raise InvalidParameterValue(
                    f"unknown column '{raw.strip()}': use one of {', '.join(_ATTRIBUTES)}, or "
                    "metrics.<key>, params.<key>, tags.<key> (globs like 'metrics.val_*' too)"
                )
            present = sorted({k for r in runs for k in getattr(r.data, entity)})
            if any(c in key for c in "*?["):
                matched = fnmatch.filter(present, key)
                if not matched and runs:
                    raise InvalidParameterValue(f"no {_PREFIXES[entity]} of the listed runs matches '{name}'")
                out += [f"{entity}.{k}" for k in matched]
                continue
            if runs and key not in present:
                hint = None
                if store is not None:
                    from gitrun.tracking.selection import suggest_key

                    hint = suggest_key(store, key)
                raise InvalidParameterValue(
                    f"no listed run has a {_PREFIXES[entity]} named '{key}'"
                    + (f"; did you mean {hint}?" if hint and hint != name else "")
                )
            out.append(name)
    return list(dict.fromkeys(out))


def column_value(run: Any, column: str) -> Any:
    """The raw value of a column for one run (None when the run lacks it)."""
    entity, _, key = column.partition(".")
    if entity in _PREFIXES and key:
        return getattr(run.data, entity).get(key)
    if column == "duration":
        return None if run.info.end_time is None else (run.info.end_time - run.info.start_time) / 1000
    if column == "parent":
        return run.data.tags.get("mlflow.parentRunId")
    return getattr(run.info, column)


def table_cell(run: Any, column: str, names: dict[str, str] | None = None) -> str:
    value = column_value(run, column)
    if column in ("run_id",):
        return str(value)[:8]
    if column == "parent":
        return "" if value is None else (names or {}).get(value, value[:8])
    if column == "run_name":
        return render.display_text(value)
    if column in ("start_time", "end_time"):
        return render.fmt_time(value)
    if column == "duration":
        return render.run_duration(run)
    return render.fmt_cell(value)


def header(column: str, bare: set[str]) -> str:
    """``val_acc`` for ``metrics.val_acc`` when no other entity has that key."""
    if column in _HEADERS:
        return _HEADERS[column]
    entity, _, key = column.partition(".")
    return key if entity in _PREFIXES and key in bare else column


def column_spec(column: str, bare: set[str]) -> render.Column:
    entity = column.partition(".")[0]
    return render.Column(
        render.display_text(header(column, bare)),
        right=entity == "metrics" or column == "duration",
        keep=column in _KEEP,
        color={"params": "cyan", "metrics": "green"}.get(entity),
    )


def bare_keys(columns: Sequence[str]) -> set[str]:
    keys: dict[str, int] = {}
    for c in columns:
        entity, _, key = c.partition(".")
        if entity in _PREFIXES and key:
            keys[key] = keys.get(key, 0) + 1
    return {k for k, n in keys.items() if n == 1 and k not in _ATTRIBUTES and k not in _HEADERS.values()}


def run_json(run: Any) -> dict[str, Any]:
    info = run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "tags": dict(run.data.tags),
    }


@click.group("runs")
def runs() -> None:
    """List and manage runs (ls, rm, restore, tag, rename)."""


def _order(spec: str) -> tuple[str, bool]:
    """``metrics.acc DESC`` -> (``metrics.acc``, ascending?)."""
    parts = spec.split()
    if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
        return parts[0], parts[1].upper() == "ASC"
    return spec.strip(), False


@runs.command("ls")
@click.option(
    "-e",
    "--experiment",
    "experiments",
    multiple=True,
    metavar="EXPERIMENT",
    help="Experiment name or id (repeatable; default: every active experiment).",
)
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="FILTER",
    help="MLflow filter string, e.g. \"metrics.acc > 0.9 and params.model = 'cnn'\".",
)
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="KEY",
    help="Order key, e.g. 'metrics.acc DESC' (repeatable; default: newest first, nested runs as a tree).",
)
@click.option("--parent", metavar="RUN", help="Only the children of RUN (one sweep).")
@click.option(
    "--columns",
    multiple=True,
    metavar="COLS",
    help="Comma-separated columns: run_id, run_name, status, start_time, parent, metrics.<key>, "
    "params.<key>, tags.<key>; globs like 'metrics.val_*'.",
)
@click.option(
    "--all-columns", is_flag=True, help="Also the params and metrics that are the same in every run."
)
@click.option("--spark", multiple=True, metavar="METRIC", help="Add a sparkline of METRIC's history.")
@click.option(
    "--best-child",
    metavar="ORDER",
    help="One row per sweep: its best child by ORDER, e.g. 'metrics.val_acc DESC'.",
)
@click.option(
    "--group-by",
    metavar="PARAM",
    help="One row per value of PARAM: run count and each metric's mean ± std.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Most runs to list."
)
@click.option("--all", "view", flag_value="ALL", help="Include deleted runs.")
@click.option("--deleted", "view", flag_value="DELETED_ONLY", help="Only deleted runs.")
@click.option("-q", "--quiet", "ids_only", is_flag=True, help="Only full run ids, one per line.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV for scripts.")
@click.option("--md", "as_md", is_flag=True, help="A Markdown table (for pull requests).")
def ls(
    *,
    experiments: tuple[str, ...],
    filter_string: str,
    order_by: tuple[str, ...],
    parent: str | None,
    columns: tuple[str, ...],
    all_columns: bool,
    spark: tuple[str, ...],
    best_child: str | None,
    group_by: str | None,
    limit: int,
    view: str | None,
    ids_only: bool,
    as_json: bool,
    as_csv: bool,
    as_md: bool,
) -> int:
    """List runs matching a filter: a leaderboard when ordered by a metric, a tree of
    nested runs otherwise. Only columns whose values differ between runs are shown
    (--all-columns for all); long output goes through a pager."""
    from gitrun.tracking import search, selection

    output = render.output_format(quiet=ids_only, json=as_json, csv=as_csv, md=as_md)
    if best_child and group_by:
        raise click.UsageError("choose --best-child or --group-by, not both")
    obj = cli_context()
    client = obj.reader
    store = client.store
    ids = resolve_experiments(client, experiments)
    filters = [filter_string] if filter_string.strip() else []
    parent_id = None
    if parent:
        parent_id = obj.run_id(parent)
        filters.append(f"tags.`mlflow.parentRunId` = '{parent_id}'")
    full_filter = " and ".join(filters)
    many = best_child is not None or group_by is not None
    try:
        found = (
            search.collect_runs(
                client,
                ids,
                filter_string=full_filter,
                run_view_type=view or "ACTIVE_ONLY",
                max_results=100_000 if many else limit,
                order_by=list(order_by) or None,
            )
            if ids
            else []
        )
    except InvalidParameterValue as exc:
        raise selection.explain_filter_error(store, exc) from None
    if not found and filter_string.strip():
        problems = selection.missing_filter_keys(store, filter_string)
        if problems:
            raise InvalidParameterValue("no runs match: " + "; ".join(problems))
    if best_child:
        return _best_children(found, best_child, columns, output)
    if group_by:
        return _groups(found, group_by, columns, output)
    chosen = parse_columns(columns, found, store)
    if ids_only:
        for run in found:
            click.echo(run.info.run_id)
        return 0
    if output == "json":
        if chosen:
            render.write_json([{c: column_value(r, c) for c in chosen} for r in found])
        else:
            render.write_json([run_json(r) for r in found])
        return 0
    hidden: list[str] = []
    if not chosen:
        # Scripts get every column; people get the ones that tell runs apart.
        every = all_columns or output == "csv"
        chosen, hidden = _default_columns(found, every, bool(order_by), parent_id is not None)
    if output == "csv":
        render.write_csv(chosen, [[column_value(r, c) for c in chosen] for r in found])
        return 0
    if not found:
        click.echo(_nothing_found(obj, filter_string, parent_id, view))
        return 0
    total = selection.count_runs(store, ids, full_filter, view or "ACTIVE_ONLY") if len(found) >= limit else 0
    _print(found, chosen, spark, ordered=bool(order_by), output=output, hidden=hidden, total=total)
    return 0


def _default_columns(
    found: Sequence[Any], all_columns: bool, ordered: bool, one_parent: bool
) -> tuple[list[str], list[str]]:
    from gitrun.tracking.leaderboard import split_keys

    chosen = list(_DEFAULT_COLUMNS)
    hidden: list[str] = []
    for entity in ("params", "metrics"):
        split = split_keys(found, entity)
        keys = split.varying + split.constant if all_columns else split.varying
        chosen += [f"{entity}.{k}" for k in sorted(keys)]
        if not all_columns:
            hidden += [f"{entity}.{k}" for k in split.constant]
    # A child whose parent is not drawn above it (not listed, or a leaderboard's order)
    # says whose child it is in a column of its own.
    present = set() if ordered else {r.info.run_id for r in found}
    if not one_parent and any(
        (p := r.data.tags.get("mlflow.parentRunId")) and p not in present for r in found
    ):
        chosen.insert(2, "parent")
    return chosen, hidden


def _nothing_found(obj: Any, filter_string: str, parent_id: str | None, view: str | None) -> str:
    from gitrun.tracking import sharing

    if filter_string.strip():
        return "No runs match the filter."
    if parent_id:
        return f"Run {parent_id[:8]} has no child runs."
    if view == "DELETED_ONLY":
        return "No deleted runs."
    remotes = sharing.remote_names(obj.reader)
    if remotes:
        return (
            "No runs yet. Runs recorded elsewhere come with `gitrun fetch "
            f"{remotes[0] if len(remotes) == 1 else 'REMOTE'}` (git clone does not bring them)."
        )
    return "No runs yet. Record one with gitrun.start_run() or `gitrun run -- python train.py`."


def _print(
    found: Sequence[Any],
    chosen: list[str],
    spark: Sequence[str],
    *,
    ordered: bool,
    output: str | None,
    hidden: list[str],
    total: int,
) -> None:
    from gitrun.cli.pager import paged
    from gitrun.tracking.leaderboard import TreeRow, tree_prefix, tree_rows

    obj = cli_context()
    # Nested runs are drawn as a tree only in the natural order: in a leaderboard a
    # child's parent is usually elsewhere in the list.
    rows = [TreeRow(r, 0, True) for r in found] if ordered else tree_rows(found)
    names = {r.info.run_id: r.info.run_name for r in found}
    if "parent" in chosen:  # name the parents that are not listed themselves
        for parent in {r.data.tags.get("mlflow.parentRunId") for r in found} - set(names) - {None}:
            try:
                names[str(parent)] = obj.reader.get_run(str(parent)).info.run_name
            except GitrunError:
                pass  # a parent that is gone: its short id is shown
    bare = bare_keys(chosen)
    spark_keys = [s if s.startswith("metrics.") else f"metrics.{s}" for s in spark]
    cols = [column_spec(c, bare) for c in chosen] + [
        render.Column(header(k, bare) + " ~", keep=False, limit=12) for k in spark_keys
    ]
    cells = []
    for row in rows:
        line = []
        for c in chosen:
            text = table_cell(row.run, c, names)
            if c == "run_name":
                text = tree_prefix(row) + text
            line.append(text)
        for key in spark_keys:
            history = obj.reader.get_metric_history(row.run.info.run_id, key.partition(".")[2])
            line.append(render.sparkline([m.value for m in history]))
        cells.append(line)
    if output == "md":
        render.write_markdown([c.header for c in cols], cells, [i for i, c in enumerate(cols) if c.right])
        return
    status_col = chosen.index("status") if "status" in chosen else -1

    def row_style(_r: int, c: int, text: str) -> str | None:
        return render.status_style(text) if c == status_col else None

    with paged(obj.pager):
        result = render.layout_table(cols, cells, width=obj.width, color=obj.color, row_style=row_style)
        for text_line in result.lines:
            click.echo(text_line)
        notes: list[str] = []
        if total > len(found):
            notes.append(f"{render.fmt_count(len(found))} of {render.fmt_count(total)} runs (--limit)")
        else:
            notes.append(f"{render.fmt_count(len(found))} run{'s' if len(found) != 1 else ''}")
        if hidden:
            notes.append(f"{len(hidden)} param/metric column(s) have one value in every run (--all-columns)")
        click.echo("; ".join(notes))
        if result.hidden:
            click.echo(render.hidden_note(result.hidden, obj.width))


def _best_children(found: Sequence[Any], order: str, columns: Sequence[str], output: str | None) -> int:
    from gitrun.tracking.leaderboard import best_children

    key, ascending = _order(order)
    if not key.startswith("metrics."):
        raise InvalidParameterValue(
            f"--best-child orders by a metric, e.g. 'metrics.val_acc DESC', not {order!r}"
        )
    metric = key.partition(".")[2]
    sweeps = best_children(found, metric, ascending=ascending)
    if not sweeps:
        raise InvalidParameterValue("none of the runs is a child run (nested under a parent run)")
    obj = cli_context()
    parents = {}
    for s in sweeps:
        try:
            parents[s.parent_id] = obj.reader.get_run(s.parent_id).info.run_name
        except Exception:  # noqa: BLE001 - a parent that is gone: show its id
            parents[s.parent_id] = s.parent_id[:8]
    best_runs = [s.best for s in sweeps if s.best is not None]
    extra = parse_columns(columns, best_runs) if columns else []
    if not extra:
        from gitrun.tracking.leaderboard import split_keys

        extra = [f"params.{k}" for k in split_keys(best_runs, "params").varying]
    if output == "quiet":
        for run in best_runs:
            click.echo(run.info.run_id)
        return 0
    head = ["sweep", "children", "best run", "name", key, *extra]
    rows = []
    for s in sweeps:
        best = s.best
        rows.append(
            [
                render.display_text(parents[s.parent_id]),
                str(s.children),
                best.info.run_id[:8] if best else "",
                render.display_text(best.info.run_name) if best else "(no child has it)",
                render.fmt_cell(best.data.metrics.get(metric)) if best else "",
                *(table_cell(best, c) if best else "" for c in extra),
            ]
        )
    return _emit(head, rows, output, right={1, 4}, keep={0, 2, 3})


def _groups(found: Sequence[Any], group_by: str, columns: Sequence[str], output: str | None) -> int:
    from gitrun.tracking.leaderboard import group_by_param, split_keys

    param = group_by.removeprefix("params.")
    if not any(param in r.data.params for r in found):
        raise InvalidParameterValue(f"no listed run has a param named '{param}'")
    metrics = [c.partition(".")[2] for c in parse_columns(columns, found) if c.startswith("metrics.")]
    if not metrics:
        metrics = split_keys(found, "metrics").varying
    having = [r for r in found if param in r.data.params]
    left_out = len(found) - len(having)
    groups = sorted(group_by_param(having, param, metrics), key=lambda g: _sort_key(g.value))
    if output == "quiet":
        raise click.UsageError("-q lists runs; it does not combine with --group-by")
    if output == "json":
        render.write_json(
            [
                {
                    param: g.value,
                    "runs": len(g.runs),
                    "metrics": {k: vars(s) for k, s in g.metrics.items()},
                }
                for g in groups
            ]
        )
        return 0
    head = [param, "runs", *metrics]
    rows = []
    for g in groups:
        cells = []
        for key in metrics:
            s = g.metrics.get(key)
            if s is None:
                cells.append("")
            elif s.count == 1:
                cells.append(render.fmt_value(s.mean))
            else:
                cells.append(f"{render.fmt_value(s.mean)} ± {render.fmt_value(s.std)}")
        rows.append([render.display_text(g.value), str(len(g.runs)), *cells])
    code = _emit(head, rows, output, right=set(range(1, len(head))), keep={0})
    if left_out and output is None:
        click.echo(f"(mean ± standard deviation; {left_out} run(s) without {param} left out)")
    return code


def _sort_key(value: str | None) -> tuple[int, float, str]:
    """Numbers in numeric order, then text."""
    try:
        return (0, float(value or ""), "")
    except ValueError:
        return (1, 0.0, value or "")


def _emit(
    head: list[str], rows: list[list[str]], output: str | None, *, right: set[int], keep: set[int]
) -> int:
    from gitrun.cli.pager import paged

    obj = cli_context()
    if output == "json":
        render.write_json([dict(zip(head, r)) for r in rows])
    elif output == "csv":
        render.write_csv(head, rows)
    elif output == "md":
        render.write_markdown(head, rows, sorted(right))
    else:
        cols = [render.Column(h, right=i in right, keep=i in keep) for i, h in enumerate(head)]
        with paged(obj.pager):
            result = render.layout_table(cols, rows, width=obj.width, color=obj.color)
            for line in result.lines:
                click.echo(line)
            if result.hidden:
                click.echo(render.hidden_note(result.hidden, obj.width))
    return 0
