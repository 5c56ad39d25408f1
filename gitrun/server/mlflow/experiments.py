"""``/experiments/...``: create, get, get-by-name, search, update, delete, restore, tags."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.server.mlflow import messages
from gitrun.server.mlflow.api import Api
from gitrun.server.mlflow.protocol import Fields, JsonMessage
from gitrun.server.mlflow.views import view_type
from gitrun.tracking.client import Client

EMPTY = JsonMessage({})


def experiment_id(fields: Fields) -> str:
    """A required experiment id; gitrun's ids are integers, as MLflow's SQL store's."""
    value = fields.required_string("experiment_id")
    if not value.isdigit():
        raise InvalidParameterValue(
            f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."
        )
    return value


async def create(api: Api, request: Request) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    name = fields.required_string("name")
    location = fields.string("artifact_location")
    if location and location.startswith("runs:"):
        raise InvalidParameterValue("Artifact location cannot be a runs:/ URI")
    tags = {t.required_string("key"): t.string("value", default="") or "" for t in fields.objects("tags")}

    def make(client: Client) -> str:
        # gitrun keeps its own artifact location: artifacts go to the content-addressed store.
        created = client.create_experiment(name, None, tags)
        client.flush()
        return created

    return JsonMessage({"experiment_id": await api.call(make, api.ctx.client)})


async def get(api: Api, request: Request) -> Response:
    found = await api.call(api.ctx.client.get_experiment, experiment_id(await api.fields(request)))
    return JsonMessage({"experiment": messages.experiment(found)})


async def get_by_name(api: Api, request: Request) -> Response:
    name = (await api.fields(request)).required_string("experiment_name")
    found = await api.call(api.ctx.client.get_experiment_by_name, name)
    if found is None:
        raise ResourceDoesNotExist(f"Could not find experiment with name '{name}'")
    return JsonMessage({"experiment": messages.experiment(found)})


async def search(api: Api, request: Request) -> Response:
    fields = await api.fields(request)
    max_results = fields.integer("max_results", default=1000)
    assert max_results is not None
    if not 1 <= max_results <= 50_000:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most 50000."
        )
    page = await api.call(
        api.ctx.client.search_experiments,
        view_type=view_type(fields.raw("view_type")),
        max_results=max_results,
        filter_string=fields.string("filter") or None,
        order_by=fields.strings("order_by") or None,
        page_token=fields.string("page_token") or None,
    )
    body: dict[str, object] = {}
    if page:
        body["experiments"] = [messages.experiment(e) for e in page]
    if page.token:
        body["next_page_token"] = page.token
    return JsonMessage(body)


async def _change(api: Api, request: Request, change: str) -> Response:
    api.check_write(request)
    fields = await api.fields(request)
    exp = experiment_id(fields)
    client = api.ctx.client

    def apply() -> None:
        if change == "delete":
            client.delete_experiment(exp)
        elif change == "restore":
            client.restore_experiment(exp)
        elif change == "update":
            name = fields.string("new_name")
            if name:
                client.rename_experiment(exp, name)
        elif change == "set-tag":
            client.set_experiment_tag(exp, fields.required_string("key"), fields.string("value", default=""))
        elif change == "delete-tag":
            client.delete_experiment_tag(exp, fields.required_string("key"))
        client.flush()

    await api.call(apply)
    return EMPTY


async def delete(api: Api, request: Request) -> Response:
    return await _change(api, request, "delete")


async def restore(api: Api, request: Request) -> Response:
    return await _change(api, request, "restore")


async def update(api: Api, request: Request) -> Response:
    return await _change(api, request, "update")


async def set_tag(api: Api, request: Request) -> Response:
    return await _change(api, request, "set-tag")


async def delete_tag(api: Api, request: Request) -> Response:
    return await _change(api, request, "delete-tag")
