"""Experiments and the runs table: ``/api/ui/experiments``, ``/api/ui/runs...``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue
from gitrun.server.context import ServerContext
from gitrun.server.ui.handlers import int_arg, list_arg, text_arg
from gitrun.server.ui.jsonify import Json, run_row
from gitrun.tracking import overview, tables
from gitrun.tracking.tables import RunTableQuery, SortKey

PAGE_LIMIT = 1000


def sort_keys(text: str) -> tuple[SortKey, ...]:
    """``metrics.loss:asc,attributes.start_time:desc`` -> sort keys (keys may hold ``:``)."""
    keys = []
    for item in filter(None, text.split(",")):
        column, _, direction = item.rpartition(":")
        if direction not in ("asc", "desc") or not column:
            raise InvalidParameterValue(f"sort {item!r}: use <column>:asc or <column>:desc")
        keys.append(SortKey(column, direction == "asc"))
    return tuple(keys)


def table_query(request: Request) -> RunTableQuery:
    experiments = tuple(list_arg(request, "experiments"))
    if not experiments:
        raise InvalidParameterValue("choose at least one experiment (experiments=<id>,<id>)")
    return RunTableQuery(
        experiment_ids=experiments,
        filter_string=text_arg(request, "filter"),
        sort=sort_keys(text_arg(request, "sort")),
        view=text_arg(request, "view", "active"),
        top_level=text_arg(request, "nested", "0") == "1",
    )


async def experiments(request: Request, ctx: ServerContext) -> Response:
    view = text_arg(request, "view", "active")
    counts = text_arg(request, "counts", "1") != "0"
    found = await ctx.call(overview.experiments, ctx.client.store, view, counts=counts)
    return Json({"has_records": found.has_records, "experiments": found.experiments})


async def runs(request: Request, ctx: ServerContext) -> Response:
    query = table_query(request)
    offset = int_arg(request, "offset", 0)
    limit = min(int_arg(request, "limit", 100), PAGE_LIMIT)
    page = await ctx.call(tables.run_page, ctx.client.store, query, offset, limit)
    body = {"offset": page.offset, "runs": [run_row(r) for r in page.runs], "children": page.children}
    best = text_arg(request, "best")
    parents = [p for p, n in page.children.items() if n]
    if best and parents:
        (key,) = sort_keys(best) or (None,)
        if key is None or not key.column.startswith("metrics."):
            raise InvalidParameterValue("best=metrics.<key>:asc|desc picks each parent's best child")
        metric = key.column.removeprefix("metrics.")
        found = await ctx.call(tables.best_children, ctx.client.store, query, parents, metric, key.ascending)
        body["best"] = {parent: run_row(child) for parent, child in found.items()}
    return Json(body)


async def count(request: Request, ctx: ServerContext) -> Response:
    total = await ctx.call(tables.count_runs, ctx.client.store, table_query(request))
    return Json({"count": total})


async def columns(request: Request, ctx: ServerContext) -> Response:
    summary = await ctx.call(tables.column_summary, ctx.client.store, table_query(request))
    return Json(
        {
            "sampled": summary.sampled,
            "params": summary.params,
            "metrics": summary.metrics,
            "tags": summary.tags,
            "varying": summary.varying(),
        }
    )


async def groups(request: Request, ctx: ServerContext) -> Response:
    param = text_arg(request, "param")
    if not param:
        raise InvalidParameterValue("param=<key> names the param to group by")
    metrics = list_arg(request, "metrics")
    found = await ctx.call(tables.group_runs, ctx.client.store, table_query(request), param, metrics)
    return Json({"param": param, "groups": found})


async def check_filter(request: Request, ctx: ServerContext) -> Response:
    problem = tables.check_filter(text_arg(request, "filter"))
    if problem is None:
        return Json({"ok": True})
    return Json({"ok": False, "message": problem.message, "position": problem.position})
