"""``/logged-models...``: what MLflow 3's ``log_model`` and ``load_model`` call.

create -> (the client uploads the files) -> finalize (PATCH status READY); get by id;
search by experiment and ``name = '...'`` (how ``runs:/<run>/<name>`` finds a model);
params and tags.  See :mod:`gitrun.tracking.logged_models` for where they are kept.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue
from gitrun.server.mlflow import messages
from gitrun.server.mlflow.api import Api
from gitrun.server.mlflow.protocol import Fields, JsonMessage
from gitrun.tracking import logged_models as lm

EMPTY = JsonMessage({})
_NAME_FILTER = re.compile(r"""^\s*name\s*=\s*(['"])(.*)\1\s*$""")


def _pairs(items: list[Fields]) -> dict[str, str]:
    return {i.required_string("key"): i.string("value", default="") or "" for i in items}


async def create(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    experiment_id = fields.required_string("experiment_id")
    store = api.store
    model = await api.call(
        lm.create,
        store,
        experiment_id,
        fields.string("name"),
        source_run_id=fields.string("source_run_id") or None,
        model_type=fields.string("model_type") or None,
        params=_pairs(fields.objects("params")),
        tags=_pairs(fields.objects("tags")),
    )
    return JsonMessage({"model": messages.logged_model(model)})


async def get(api: Api, request: Request) -> Response:
    model = await api.call(lm.get, api.store, request.path_params["model_id"])
    return JsonMessage({"model": messages.logged_model(model)})


async def finalize(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    status = fields.raw("status")
    if isinstance(status, int) and not isinstance(status, bool):
        status = {1: lm.PENDING, 2: lm.READY, 3: lm.FAILED}.get(status, str(status))
    if not isinstance(status, str):
        raise InvalidParameterValue("Missing value for required parameter 'status'.")
    model = await api.call(lm.update, api.store, request.path_params["model_id"], status=status)
    return JsonMessage({"model": messages.logged_model(model)})


async def _update_pairs(api: Api, request: Request, field: str) -> Response:
    """Add params or set tags (``field``) of a model from the body's key/value list."""
    api.check_write(request)
    pairs = _pairs((await api.fields(request)).objects(field))
    await api.call(lm.update, api.store, request.path_params["model_id"], **{field: pairs})
    return EMPTY


async def log_params(api: Api, request: Request) -> Response:
    return await _update_pairs(api, request, "params")


async def set_tags(api: Api, request: Request) -> Response:
    return await _update_pairs(api, request, "tags")


async def delete_tag(api: Api, request: Request) -> Response:
    api.check_write(request)
    key = request.path_params["key"]
    await api.call(lm.update, api.store, request.path_params["model_id"], delete_tags=[key])
    return EMPTY


def name_filter(text: str | None) -> str | None:
    """The name a filter asks for; only ``name = '<name>'`` (what the client sends) is supported."""
    if not text or not text.strip():
        return None
    found = _NAME_FILTER.match(text)
    if found is None:
        raise InvalidParameterValue(
            f"Unsupported logged model filter {text!r}: gitrun's server supports name = '<name>'"
        )
    return found.group(2)


async def search(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    experiment_ids = fields.strings("experiment_ids")
    name = name_filter(fields.string("filter"))
    max_results = fields.integer("max_results", default=50) or 50
    found = await api.call(lm.search, api.store, experiment_ids, name)
    start = int(fields.string("page_token") or 0) if (fields.string("page_token") or "0").isdigit() else 0
    page = found[start : start + max_results]
    body: dict[str, Any] = {}
    if page:
        body["models"] = [messages.logged_model(m) for m in page]
    if start + max_results < len(found):
        body["next_page_token"] = str(start + max_results)
    return JsonMessage(body)
