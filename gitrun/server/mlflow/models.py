"""``/logged-models...``: what MLflow 3's ``log_model`` and ``load_model`` call.

create (a PENDING model, id minted) -> the client uploads the files to the model's
artifact location -> finalize (PATCH status READY: the folder's digest and flavors
are recorded); get by id; search (gitrun's logged-model filters: ``name = '...'`` is
how ``runs:/<run>/<name>`` finds a model); params and tags.  These are the logged
models of gitrun's own API (:mod:`gitrun.tracking.logged_models`): the server only
translates messages.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue
from gitrun.server.mlflow import messages
from gitrun.server.mlflow.api import Api
from gitrun.server.mlflow.protocol import Fields, JsonMessage
from gitrun.server.mlflow.views import model_status
from gitrun.tracking import entities as ent
from gitrun.tracking import logged_models as lm

EMPTY = JsonMessage({})


def _pairs(items: list[Fields]) -> dict[str, str]:
    return {i.required_string("key"): i.string("value", default="") or "" for i in items}


def _answer(model: ent.LoggedModel) -> Response:
    return JsonMessage({"model": messages.logged_model(model)})


async def create(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    experiment_id = fields.required_string("experiment_id")
    store, client = api.store, api.ctx.client

    def make() -> ent.LoggedModel:
        model = lm.create_model(
            store,
            experiment_id,
            fields.string("name"),
            source_run_id=fields.string("source_run_id") or None,
            model_type=fields.string("model_type") or None,
            params=_pairs(fields.objects("params")),
            tags=_pairs(fields.objects("tags")),
        )
        # Committed at once: the uploads that follow may reach another worker process.
        client.flush()
        return model

    return _answer(await api.call(make))


async def get(api: Api, request: Request) -> Response:
    return _answer(await api.call(api.ctx.client.get_logged_model, request.path_params["model_id"]))


async def finalize(api: Api, request: Request) -> Response:
    api.check_write(request)
    status = model_status((await api.fields(request)).raw("status"))
    model_id = request.path_params["model_id"]
    return _answer(await api.call(api.ctx.client.finalize_logged_model, model_id, status))


async def log_params(api: Api, request: Request) -> Response:
    api.check_write(request)
    pairs = _pairs((await api.fields(request)).objects("params"))
    await api.call(api.ctx.client.log_model_params, request.path_params["model_id"], pairs)
    return EMPTY


async def set_tags(api: Api, request: Request) -> Response:
    api.check_write(request)
    pairs = _pairs((await api.fields(request)).objects("tags"))
    await api.call(api.ctx.client.set_logged_model_tags, request.path_params["model_id"], pairs)
    return EMPTY


async def delete_tag(api: Api, request: Request) -> Response:
    api.check_write(request)
    model_id, key = request.path_params["model_id"], request.path_params["key"]
    await api.call(api.ctx.client.delete_logged_model_tag, model_id, key)
    return EMPTY


def _order_by(items: list[Fields]) -> list[dict[str, Any]]:
    """MLflow's ``order_by`` messages (``field_name``, ``ascending``) as gitrun takes them."""
    out = []
    for item in items:
        field = item.required_string("field_name")
        ascending = item.raw("ascending")
        out.append({"field_name": field, "ascending": True if ascending is None else bool(ascending)})
    return out


async def search(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    experiment_ids = fields.strings("experiment_ids")
    max_results = fields.integer("max_results", default=50) or 50
    token = fields.string("page_token") or "0"
    if not token.isdigit():
        raise InvalidParameterValue(f"Invalid page token {token!r}")
    if not experiment_ids:
        return EMPTY
    start, client = int(token), api.ctx.client
    filter_string, order_by = fields.string("filter") or None, _order_by(fields.objects("order_by"))
    found = await api.call(
        lambda: list(client.search_logged_models(experiment_ids, filter_string, order_by=order_by))
    )
    page = found[start : start + max_results]
    body: dict[str, Any] = {}
    if page:
        body["models"] = [messages.logged_model(m) for m in page]
    if start + max_results < len(found):
        body["next_page_token"] = str(start + max_results)
    return JsonMessage(body)
