"""``/runs/...``: create, get, update, delete, restore, search and every log call.

Each write returns only after the tracking layer journaled it (the record writer
appends to its journal before the call returns), so a request answered 200 survives
the server being killed; commits to git follow on the writer's schedule, batching the
requests of every client into one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue
from gitrun.server.mlflow import messages
from gitrun.server.mlflow.api import Api
from gitrun.server.mlflow.protocol import Fields, JsonMessage, as_double, missing
from gitrun.server.mlflow.views import run_status, view_type
from gitrun.tracking import datasets, ingest, validation
from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client
from gitrun.tracking.latest import latest_points
from gitrun.tracking.run_record import USER_TAG
from gitrun.tracking.store import TrackingStore

EMPTY = JsonMessage({})
MAX_METRICS = 1000
MAX_PARAMS_TAGS = 100
MAX_ENTITIES = 1000
MAX_SEARCH_RESULTS = 50_000


def full_run(store: TrackingStore, client: Client, run_id: str) -> dict[str, Any]:
    """A run as ``runs/get`` answers it: latest points, dataset inputs, model outputs
    (the same ones gitrun's ``get_run`` gives)."""
    return messages.run(client.get_run(run_id), latest_points(store, run_id))


async def create(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    tags = {t.required_string("key"): t.string("value", default="") or "" for t in fields.objects("tags")}
    user = fields.string("user_id") or None
    who = api.user(request)
    if who is not None:
        # The recorded user is the authenticated one, whatever the client claims.
        user = who.name
        tags[USER_TAG] = who.name
    elif user and USER_TAG not in tags:
        tags[USER_TAG] = user
    spec = ingest.RunSpec(
        experiment_id=fields.string("experiment_id") or "0",
        run_name=fields.string("run_name") or None,
        user_id=user,
        start_time=fields.integer("start_time"),
        tags=tags,
    )
    store, client = api.store, api.ctx.client

    def make() -> dict[str, Any]:
        run_id = ingest.create_run(store, spec)
        return full_run(store, client, run_id)

    return JsonMessage({"run": await api.call(make)})


async def get(api: Api, request: Request) -> Response:
    run_id = (await api.fields(request)).run_id()
    return JsonMessage({"run": await api.call(full_run, api.store, api.ctx.client, run_id)})


async def update(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    status = run_status(fields.raw("status"))
    end_time = fields.integer("end_time")
    name = fields.string("run_name") or None
    store, client = api.store, api.ctx.client

    def change() -> dict[str, Any]:
        ingest.update_run(store, run_id, status=status, end_time=end_time, run_name=name)
        if status is not None and ent.RunStatus.is_terminated(status):
            client.flush()  # an ended run is committed at once, as ending a run in gitrun
        return messages.run_info(client.get_run(run_id).info)

    return JsonMessage({"run_info": await api.call(change)})


async def _lifecycle(api: Api, request: Request, delete: bool) -> Response:
    api.check_write(request)
    run_id = (await api.fields(request)).run_id()
    client = api.ctx.client
    await api.call(client.delete_run if delete else client.restore_run, run_id)
    return EMPTY


async def delete(api: Api, request: Request) -> Response:
    return await _lifecycle(api, request, True)


async def restore(api: Api, request: Request) -> Response:
    return await _lifecycle(api, request, False)


def metric_of(item: Fields, where: str, run_id: str) -> ent.Metric:
    def need(name: str) -> Any:
        value = item.raw(name)
        if value is None:
            raise missing(f"{where}{name}")
        return value

    key = need("key")
    value = as_double(f"{where}value", need("value"))
    timestamp = _int(item, where, "timestamp")
    step = item.integer("step", default=0)
    return ent.Metric(key, value, timestamp, step or 0, run_id, model_id=item.string("model_id") or None)


def _int(item: Fields, where: str, name: str) -> int:
    if item.raw(name) is None:
        raise missing(f"{where}{name}")
    value = item.integer(name)
    assert value is not None
    return value


async def log_metric(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    point = metric_of(fields, "", run_id)
    client = api.ctx.client
    await api.call(
        client.log_metric,
        run_id,
        point.key,
        point.value,
        point.timestamp,
        point.step,
        model_id=point.model_id,
    )
    return EMPTY


async def _run_key_value(
    api: Api, request: Request, call: Callable[[str, str, str | None], object]
) -> Response:
    """``log-parameter`` and ``set-tag``: a run, a key (required) and a value."""
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    key = fields.required_string("key")
    value = fields.string("value", default="")
    await api.call(call, run_id, key, value)
    return EMPTY


async def log_param(api: Api, request: Request) -> Response:
    return await _run_key_value(api, request, api.ctx.client.log_param)


async def log_batch(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    raw_metrics, raw_params, raw_tags = (
        fields.objects("metrics"),
        fields.objects("params"),
        fields.objects("tags"),
    )
    if len(raw_metrics) > MAX_METRICS:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_METRICS} metrics. Got {len(raw_metrics)} "
            "metrics. Please split up metrics across multiple requests and try again."
        )
    for what, items in (("params", raw_params), ("tags", raw_tags)):
        if len(items) > MAX_PARAMS_TAGS:
            raise InvalidParameterValue(
                f"A batch logging request can contain at most {MAX_PARAMS_TAGS} {what}. Got {len(items)} "
                f"{what}. Please split up {what} across multiple requests and try again."
            )
    total = len(raw_metrics) + len(raw_params) + len(raw_tags)
    if total > MAX_ENTITIES:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_ENTITIES} metrics, params, and tags in total. "
            f"Got {total} entities. Please split up entities across multiple requests and try again."
        )
    params = [_key_value(p, f"params[{i}].", ent.Param) for i, p in enumerate(raw_params)]
    tags = [_key_value(t, f"tags[{i}].", ent.RunTag) for i, t in enumerate(raw_tags)]
    columns = _columns([m.data for m in raw_metrics])
    if columns is None:
        metrics = [metric_of(m, f"metrics[{i}].", run_id) for i, m in enumerate(raw_metrics)]
        await api.call(api.ctx.client.log_batch, run_id, metrics, params, tags)
        return EMPTY
    store, client = api.store, api.ctx.client

    def log() -> None:
        # Params and tags first (validated, then written), then the points in one batch.
        client.log_batch(run_id, (), params, tags)
        ingest.log_metric_columns(store, run_id, columns)

    await api.call(log)
    return EMPTY


def _columns(items: list[Any]) -> tuple[list[str], list[float], list[int], list[int]] | None:
    """The points of a batch as columns when all are plainly well-formed (the common case)."""
    try:
        keys = [m["key"] for m in items]
        values = [m["value"] for m in items]
        timestamps = [m["timestamp"] for m in items]
    except KeyError:
        return None
    steps = [m.get("step", 0) for m in items]
    if any(type(x) is bool for x in values) or any(m.get("model_id") for m in items):
        return None  # points of a logged model go through the per-point path
    return validation.plain_metric_columns(keys, values, steps, timestamps)


def _key_value(item: Fields, where: str, kind: Any) -> Any:
    key = item.raw("key")
    if key is None:
        raise missing(f"{where}key")
    value = item.raw("value")
    return kind(key, "" if value is None else str(value))


async def set_tag(api: Api, request: Request) -> Response:
    return await _run_key_value(api, request, api.ctx.client.set_tag)


async def delete_tag(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    key = fields.required_string("key")
    await api.call(api.ctx.client.delete_tag, run_id, key)
    return EMPTY


def _dataset_input(item: Fields, where: str) -> ent.DatasetInput:
    raw = item.raw("dataset")
    if not isinstance(raw, dict):
        raise missing(f"{where}dataset")
    data = Fields(raw)
    dataset = ent.Dataset(
        name=data.required_string("name"),
        digest=data.required_string("digest"),
        source_type=data.string("source_type", default="") or "",
        source=data.string("source", default="") or "",
        schema=data.string("schema"),
        profile=data.string("profile"),
    )
    tags = [
        ent.InputTag(t.required_string("key"), t.string("value", default="") or "")
        for t in item.objects("tags")
    ]
    return ent.DatasetInput(dataset, tags)


async def log_inputs(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    items = [_dataset_input(d, f"datasets[{i}].") for i, d in enumerate(fields.objects("datasets"))]
    store = api.store

    def log() -> None:
        api.ctx.client.get_run(run_id)  # an unknown run is a 404 before anything is written
        datasets.log_inputs(store, run_id, items)

    await api.call(log)
    return EMPTY


async def log_outputs(api: Api, request: Request) -> Response:
    """Models are outputs of the run that made them already (their source run)."""
    api.check_write(request)
    fields = await api.fields(request)
    run_id = fields.run_id()
    client = api.ctx.client
    model_ids = [m.required_string("model_id") for m in fields.objects("models")]
    await api.call(lambda: [client.get_logged_model(model_id) for model_id in model_ids])
    await api.call(client.get_run, run_id)
    return EMPTY


async def search(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    experiment_ids = fields.strings("experiment_ids")
    max_results = fields.integer("max_results", default=1000)
    assert max_results is not None
    if not 0 < max_results <= MAX_SEARCH_RESULTS:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most "
            f"{MAX_SEARCH_RESULTS}, and greater than 0."
        )
    if not experiment_ids:
        return EMPTY
    client = api.ctx.client
    page = await api.call(
        client.search_runs,
        experiment_ids,
        filter_string=fields.string("filter") or "",
        run_view_type=view_type(fields.raw("run_view_type")),
        max_results=max_results,
        order_by=fields.strings("order_by") or None,
        page_token=fields.string("page_token") or None,
    )
    body: dict[str, Any] = {}
    if page:
        body["runs"] = [messages.run(r) for r in page]
    if page.token:
        body["next_page_token"] = page.token
    return JsonMessage(body)
