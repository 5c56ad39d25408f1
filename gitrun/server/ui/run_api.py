"""One run, its metric series, code diffs, and comparing runs: ``/api/ui/runs/{id}...``,
``/api/ui/series``, ``/api/ui/compare``, ``/api/ui/diff``."""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gitrun.errors import InvalidParameterValue
from gitrun.server.context import ServerContext
from gitrun.server.ui.handlers import float_arg, int_arg, list_arg, text_arg
from gitrun.server.ui.jsonify import NOTE_TAG, Json, run_row
from gitrun.tracking import details as det
from gitrun.tracking import diffs, reproduce, series, tables
from gitrun.tracking.search import resolve_run_id
from gitrun.tracking.store import TrackingStore

MAX_COMPARE = 100
MAX_SERIES = 500


def _run_id(store: TrackingStore, request: Request) -> str:
    return resolve_run_id(store, request.path_params["run_id"])


def _children(store: TrackingStore, run_id: str, experiment_id: str) -> list[dict[str, Any]]:
    query = tables.RunTableQuery(
        (experiment_id,),
        f"tags.`mlflow.parentRunId` = '{run_id}'",
        sort=(tables.SortKey("attributes.start_time", ascending=True),),
        view="all",
    )
    return [run_row(r) for r in tables.run_page(store, query, 0, tables.MAX_PAGE).runs]


def run_document(store: TrackingStore, text: str) -> dict[str, Any]:
    """Everything the run page shows, in one document."""
    run_id = resolve_run_id(store, text)
    found = det.run_details(store, run_id)
    run = found.run
    summaries = [series.metric_summary(store, run_id, key) for key in sorted(run.data.metrics)]
    command = reproduce.recorded_command(run)
    parent = None
    if found.parent_run_id:
        try:
            parent = run_row(store.get_run(found.parent_run_id))
        except Exception:  # noqa: BLE001 - a parent not fetched yet is shown by id only
            parent = {"run_id": found.parent_run_id, "run_name": None}
    env = found.environment
    return {
        "run": run_row(run),
        "experiment_name": found.experiment_name,
        "note": run.data.tags.get(NOTE_TAG, ""),
        "all_tags": run.data.tags,
        "metrics": [s for s in summaries if s is not None],
        "code": found.code,
        "source": run.record.get("source") or {},
        "environment": {
            "summary": det.environment_summary(found),
            "packages": found.packages,
            "gpu": env.get("gpu"),
            "variables": env.get("environment_variables") or {},
        },
        "command": shlex.join(command) if command else None,
        "reproduce": f"gitrun reproduce {run_id}" + (" --run --verify" if command else ""),
        "checkout": f"gitrun checkout {run_id}",
        "inputs": [{"path": p, **e.to_record()} for p, e in found.inputs.items()],
        "parent": parent,
        "children": _children(store, run_id, run.info.experiment_id) if found.child_run_ids else [],
    }


async def run(request: Request, ctx: ServerContext) -> Response:
    return Json(await ctx.call(run_document, ctx.client.store, request.path_params["run_id"]))


def _snapshot_diff(store: TrackingStore, text: str) -> diffs.CodeDiff:
    return diffs.snapshot_diff(store, det.run_details(store, text))


async def code_diff(request: Request, ctx: ServerContext) -> Response:
    return Json(await ctx.call(_snapshot_diff, ctx.client.store, request.path_params["run_id"]))


def _series(store: TrackingStore, request_args: dict[str, Any]) -> list[series.SeriesView]:
    run_ids = [resolve_run_id(store, r) for r in request_args["runs"]]
    keys = request_args["keys"]
    if len(run_ids) * len(keys) > MAX_SERIES:
        raise InvalidParameterValue(f"at most {MAX_SERIES} series per request")
    out = []
    for run_id in run_ids:
        run = store.get_run(run_id)
        for key in keys:
            if key in run.data.metrics:
                out.append(
                    series.series_view(
                        store,
                        run_id,
                        key,
                        x_axis=request_args["x"],
                        buckets=request_args["buckets"],
                        x_range=request_args["range"],
                        start_time=run.info.start_time,
                    )
                )
    return out


async def series_views(request: Request, ctx: ServerContext) -> Response:
    lo, hi = float_arg(request, "lo"), float_arg(request, "hi")
    args = {
        "runs": list_arg(request, "runs"),
        "keys": request.query_params.getlist("key"),
        "x": text_arg(request, "x", "step"),
        "buckets": int_arg(request, "buckets", 1000),
        "range": (lo, hi) if lo is not None and hi is not None else None,
    }
    return Json({"series": await ctx.call(_series, ctx.client.store, args)})


async def metric_csv(request: Request, ctx: ServerContext) -> Response:
    key = text_arg(request, "key")
    run_id = await ctx.call(_run_id, ctx.client.store, request)
    pieces = series.csv_lines(ctx.client.store, run_id, key)

    async def stream() -> AsyncIterator[str]:
        # One chunk of the series at a time, read in the tracking thread.
        while (piece := await ctx.call(next, pieces, None)) is not None:
            yield piece

    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in key) or "metric"
    return StreamingResponse(
        stream(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{run_id[:8]}-{name}.csv"'},
    )


def rows_json(rows: list[det.Row]) -> list[dict[str, Any]]:
    return [{"key": r.key, "values": r.values, "differs": r.differs} for r in rows]


def compare_document(store: TrackingStore, texts: list[str]) -> dict[str, Any]:
    """Runs side by side: params and latest metrics by key, code and environment differences."""
    if not 1 <= len(texts) <= MAX_COMPARE:
        raise InvalidParameterValue(f"compare 1 to {MAX_COMPARE} runs")
    found = [det.run_details(store, t) for t in texts]
    result = det.compare(found)
    env = diffs.environment_diff(found)
    return {
        "runs": [
            {**run_row(d.run), "experiment_name": d.experiment_name, "code_tree": d.code.get("tree")}
            for d in found
        ],
        "params": rows_json(result.params),
        "metrics": rows_json(result.metrics),
        "code": rows_json(result.code),
        "environment": rows_json(env.summary),
        "packages": rows_json(env.packages),
        "same_packages": env.same_packages,
    }


async def compare(request: Request, ctx: ServerContext) -> Response:
    return Json(await ctx.call(compare_document, ctx.client.store, list_arg(request, "runs")))


def _runs_diff(store: TrackingStore, old: str, new: str) -> diffs.CodeDiff:
    return diffs.runs_code_diff(store, det.run_details(store, old), det.run_details(store, new))


async def runs_diff(request: Request, ctx: ServerContext) -> Response:
    old, new = text_arg(request, "old"), text_arg(request, "new")
    if not old or not new:
        raise InvalidParameterValue("old=<run> and new=<run> name the runs to compare")
    return Json(await ctx.call(_runs_diff, ctx.client.store, old, new))
