"""``/metrics/get-history`` (paged), ``get-history-bulk`` and ``get-history-bulk-interval``."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.server.mlflow import messages
from gitrun.server.mlflow.api import Api
from gitrun.server.mlflow.protocol import JsonMessage
from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client

MAX_BULK_RUNS = 100
MAX_BULK_RESULTS = 25_000
MAX_INTERVAL_RESULTS = 2500


def _history(client: Client, run_id: str, key: str) -> list[ent.Metric]:
    try:
        return client.get_metric_history(run_id, key)
    except (ResourceDoesNotExist, InvalidParameterValue):
        return []  # MLflow's SQL store answers an unknown run or key with no points


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        found = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise InvalidParameterValue("Invalid page token") from None
    if not isinstance(found, int) or found < 0:
        raise InvalidParameterValue("Invalid page token")
    return found


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


async def get_history(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    run_id = fields.run_id()
    key = fields.required_string("metric_key")
    max_results = fields.integer("max_results")
    if max_results is not None and max_results <= 0:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. "
            "It must be a positive integer."
        )
    start = _offset(fields.string("page_token"))
    points = await api.call(_history, api.ctx.client, run_id, key)
    end = len(points) if max_results is None else min(len(points), start + max_results)
    body: dict[str, Any] = {}
    if end > start:
        body["metrics"] = [messages.metric(p) for p in points[start:end]]
    if end < len(points):
        body["next_page_token"] = _token(end)
    return JsonMessage(body)


def _run_ids(values: list[str], what: str) -> list[str]:
    if not values:
        raise InvalidParameterValue(f"{what} request must specify at least one run_id.")
    if len(values) > MAX_BULK_RUNS:
        raise InvalidParameterValue(
            f"{what} request cannot specify more than {MAX_BULK_RUNS} run_ids. "
            f"Received {len(values)} run_ids."
        )
    return values


async def get_history_bulk(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    run_ids = _run_ids(fields.strings("run_id"), "GetMetricHistoryBulk")
    key = fields.string("metric_key")
    if key is None:
        raise InvalidParameterValue("GetMetricHistoryBulk request must specify a metric_key.")
    limit = min(fields.integer("max_results", default=MAX_BULK_RESULTS) or MAX_BULK_RESULTS, MAX_BULK_RESULTS)
    client = api.ctx.client

    def collect() -> list[dict[str, Any]]:
        out = []
        for run_id in sorted(run_ids):
            points = sorted(_history(client, run_id, key), key=lambda m: (m.timestamp, m.step, m.value))
            out += [messages.metric(p, run_id) for p in points[:limit]]
        return out[:limit]

    return JsonMessage({"metrics": await api.call(collect)})


def sample_steps(steps: list[int], count: int) -> set[int]:
    """``count`` steps spread evenly over the distinct ``steps``, first and last included."""
    distinct = sorted(set(steps))
    if len(distinct) <= count:
        return set(distinct)
    if count == 1:
        return {distinct[0]}
    last = len(distinct) - 1
    return {distinct[round(i * last / (count - 1))] for i in range(count)}


async def get_history_bulk_interval(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    run_ids = _run_ids(fields.strings("run_ids"), "GetMetricHistoryBulkInterval")
    key = fields.required_string("metric_key")
    max_results = fields.integer("max_results", default=MAX_INTERVAL_RESULTS)
    assert max_results is not None
    if not 1 <= max_results <= MAX_INTERVAL_RESULTS:
        raise InvalidParameterValue(f"max_results must be between 1 and {MAX_INTERVAL_RESULTS}.")
    start, end = fields.integer("start_step"), fields.integer("end_step")
    if (start is None) != (end is None):
        raise InvalidParameterValue("If either start step or end step are specified, both must be specified.")
    if start is not None and end is not None and start > end:
        raise InvalidParameterValue(
            f"end_step must be greater than start_step. Found start_step={start} and end_step={end}."
        )
    client = api.ctx.client

    def collect() -> list[dict[str, Any]]:
        out = []
        for run_id in run_ids:
            points = _history(client, run_id, key)
            if start is not None and end is not None:
                points = [p for p in points if start <= p.step <= end]
            chosen = sample_steps([p.step for p in points], max_results)
            kept = sorted((p for p in points if p.step in chosen), key=lambda m: (m.step, m.timestamp))
            out += [messages.metric(p, run_id) for p in kept]
        return out

    return JsonMessage({"metrics": await api.call(collect)})
