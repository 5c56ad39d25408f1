"""The model registry API (MLflow's registered models, versions and aliases), kept in git.

Storage and audit: :mod:`gitrun.core.registry` (one commit per change on
``refs/gitrun/registry``, made with the user's git identity).  A version records
where the model is (``source``: ``runs:/<run_id>/<name>``), its logged model id
and its content digest (the manifest of the model's folder): loading
``models:/<name>/<version>`` or ``models:/<name>@<alias>`` checks the files
against that digest, so a version is the same bytes wherever it is loaded.
Deleted versions stay in the registry as tombstones (numbers are never reused).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gitrun.core.registry import state
from gitrun.core.registry.store import RegistryStore, who
from gitrun.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore

T = TypeVar("T")
_ALIAS = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model (MLflow's fields, plus ``model_digest``)."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    description: str
    user_id: str
    source: str
    run_id: str | None
    status: str = "READY"
    current_stage: str = "None"
    status_message: str | None = None
    run_link: str | None = None
    model_id: str | None = None
    model_digest: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)


def _now() -> int:
    return int(time.time() * 1000)


def _store(store: TrackingStore) -> RegistryStore:
    return RegistryStore(store.repo)


def _model(registry: state.Registry, name: str) -> state.ModelEntry:
    entry = registry.get(name)
    if entry is None:
        raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
    return entry


def _version(entry: state.ModelEntry, name: str, version: Any) -> dict[str, Any]:
    number = _number(version)
    record = entry.versions.get(number)
    if record is None or record.get("deleted"):
        raise ResourceDoesNotExist(f"Model Version (name={name}, version={number}) not found")
    return record


def _number(version: Any) -> int:
    try:
        number = int(str(version))
    except ValueError:
        raise InvalidParameterValue(f"Model version must be an integer, got {version!r}") from None
    if number < 1:
        raise InvalidParameterValue(f"Model version must be a positive integer, got {number}")
    return number


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue("Registered model name must be a non-empty string")
    if len(name) > 256 or "\x00" in name or name.startswith("m-"):
        raise InvalidParameterValue(f"Invalid registered model name {name!r}")
    return name


def _tags(tags: dict[str, Any] | None) -> dict[str, str]:
    return {v.validate_key(str(k), "tag"): v.tag_value(str(k), val) for k, val in (tags or {}).items()}


def _touch(record: dict[str, Any]) -> None:
    record["last_updated_timestamp"] = max(_now(), int(record.get("last_updated_timestamp") or 0) + 1)


def to_version(name: str, record: dict[str, Any], aliases: dict[str, Any]) -> ModelVersion:
    number = int(record["version"])
    return ModelVersion(
        name=name,
        version=number,
        creation_timestamp=int(record.get("creation_timestamp") or 0),
        last_updated_timestamp=int(record.get("last_updated_timestamp") or 0),
        description=str(record.get("description") or ""),
        user_id=str(record.get("user_id") or ""),
        source=str(record["source"]),
        run_id=record.get("run_id"),
        current_stage=str(record.get("current_stage") or "None"),
        run_link=record.get("run_link"),
        model_id=record.get("model_id"),
        model_digest=record.get("model_digest"),
        tags={str(k): str(val) for k, val in (record.get("tags") or {}).items()},
        aliases=sorted(a for a, target in aliases.items() if int(target["version"]) == number),
    )


def to_model(name: str, entry: state.ModelEntry) -> RegisteredModel:
    live = [r for _, r in sorted(entry.versions.items()) if not r.get("deleted")]
    return RegisteredModel(
        name=name,
        creation_timestamp=int(entry.record.get("creation_timestamp") or 0),
        last_updated_timestamp=int(entry.record.get("last_updated_timestamp") or 0),
        description=str(entry.record.get("description") or ""),
        tags={str(k): str(val) for k, val in (entry.record.get("tags") or {}).items()},
        aliases={a: int(t["version"]) for a, t in sorted(entry.aliases.items())},
        latest_versions=[to_version(name, live[-1], entry.aliases)] if live else [],
    )


def _change(store: TrackingStore, edit: Callable[[state.Registry, str], tuple[str, T]]) -> T:
    return _store(store).change(edit)


# -- registered models ---------------------------------------------------------------------------


def create_registered_model(
    store: TrackingStore, name: str, tags: dict[str, Any] | None = None, description: str | None = None
) -> RegisteredModel:
    name, clean = _name(name), _tags(tags)

    def edit(registry: state.Registry, ident: str) -> tuple[str, RegisteredModel]:
        if name in registry:
            raise ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")
        now = _now()
        registry[name] = state.ModelEntry(
            {
                "name": name,
                "description": description or "",
                "tags": clean,
                "creation_timestamp": now,
                "last_updated_timestamp": now,
                "created_by": who(ident),
            }
        )
        return f"registry: create model {name}", to_model(name, registry[name])

    return _change(store, edit)


def get_registered_model(store: TrackingStore, name: str) -> RegisteredModel:
    return to_model(name, _model(_store(store).read(), name))


def list_registered_models(store: TrackingStore) -> list[RegisteredModel]:
    return [to_model(n, e) for n, e in sorted(_store(store).read().items())]


def update_registered_model(store: TrackingStore, name: str, description: str | None) -> RegisteredModel:
    def edit(registry: state.Registry, ident: str) -> tuple[str, RegisteredModel]:
        entry = _model(registry, name)
        entry.record["description"] = description or ""
        _touch(entry.record)
        return f"registry: describe model {name}", to_model(name, entry)

    return _change(store, edit)


def rename_registered_model(store: TrackingStore, name: str, new_name: str) -> RegisteredModel:
    new_name = _name(new_name)

    def edit(registry: state.Registry, ident: str) -> tuple[str, RegisteredModel]:
        entry = _model(registry, name)
        if new_name in registry:
            raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
        entry.record["name"] = new_name
        _touch(entry.record)
        registry[new_name] = registry.pop(name)
        return f"registry: rename model {name} to {new_name}", to_model(new_name, entry)

    return _change(store, edit)


def delete_registered_model(store: TrackingStore, name: str) -> None:
    def edit(registry: state.Registry, ident: str) -> tuple[str, None]:
        _model(registry, name)
        del registry[name]
        return f"registry: delete model {name}", None

    _change(store, edit)


def set_model_tag(store: TrackingStore, name: str, key: str, value: Any, delete: bool = False) -> None:
    def edit(registry: state.Registry, ident: str) -> tuple[str, None]:
        entry = _model(registry, name)
        tags = dict(entry.record.get("tags") or {})
        if delete:
            if key not in tags:
                raise ResourceDoesNotExist(f"No tag with key {key!r} on registered model {name}")
            del tags[key]
        else:
            tags.update(_tags({key: value}))
        entry.record["tags"] = tags
        _touch(entry.record)
        return f"registry: {'delete' if delete else 'set'} tag {key} of model {name}", None

    _change(store, edit)


# -- versions ------------------------------------------------------------------------------------


def create_model_version(
    store: TrackingStore,
    name: str,
    source: str,
    *,
    run_id: str | None,
    model_id: str | None,
    model_digest: str | None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    run_link: str | None = None,
    create_model: bool = False,
) -> ModelVersion:
    """A new version of ``name`` (created first when ``create_model``), numbered after the highest."""
    name, clean = _name(name), _tags(tags)

    def edit(registry: state.Registry, ident: str) -> tuple[str, ModelVersion]:
        now = _now()
        if name not in registry:
            if not create_model:
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            registry[name] = state.ModelEntry(
                {
                    "name": name,
                    "description": "",
                    "tags": {},
                    "creation_timestamp": now,
                    "last_updated_timestamp": now,
                    "created_by": who(ident),
                }
            )
        entry = registry[name]
        number = max(entry.versions, default=0) + 1
        entry.versions[number] = {
            "version": number,
            "source": source,
            "run_id": run_id,
            "model_id": model_id,
            "model_digest": model_digest,
            "description": description or "",
            "tags": clean,
            "status": "READY",
            "current_stage": "None",
            "run_link": run_link,
            "user_id": who(ident),
            "creation_timestamp": now,
            "last_updated_timestamp": now,
        }
        _touch(entry.record)
        message = f"registry: register {name} version {number} from {source}\n\ndigest: {model_digest}"
        return message, to_version(name, entry.versions[number], entry.aliases)

    return _change(store, edit)


def get_model_version(store: TrackingStore, name: str, version: Any) -> ModelVersion:
    entry = _model(_store(store).read(), name)
    return to_version(name, _version(entry, name, version), entry.aliases)


def versions(store: TrackingStore, name: str | None = None) -> list[ModelVersion]:
    """Every live version (of ``name``, or of every model), newest last per model."""
    registry = _store(store).read()
    names = [name] if name is not None else sorted(registry)
    out = []
    for model_name in names:
        entry = _model(registry, model_name)
        out += [
            to_version(model_name, r, entry.aliases)
            for _, r in sorted(entry.versions.items())
            if not r.get("deleted")
        ]
    return out


def update_model_version(
    store: TrackingStore, name: str, version: Any, *, description: str | None = None, stage: str | None = None
) -> ModelVersion:
    def edit(registry: state.Registry, ident: str) -> tuple[str, ModelVersion]:
        entry = _model(registry, name)
        record = _version(entry, name, version)
        what = []
        if description is not None:
            record["description"] = description
            what.append("describe")
        if stage is not None:
            record["current_stage"] = stage
            what.append(f"stage {stage}")
        _touch(record)
        return f"registry: {', '.join(what) or 'touch'} {name} version {record['version']}", to_version(
            name, record, entry.aliases
        )

    return _change(store, edit)


def delete_model_version(store: TrackingStore, name: str, version: Any) -> None:
    def edit(registry: state.Registry, ident: str) -> tuple[str, None]:
        entry = _model(registry, name)
        record = _version(entry, name, version)
        number = int(record["version"])
        entry.versions[number] = {
            "version": number,
            "deleted": True,
            "source": record["source"],
            "creation_timestamp": record.get("creation_timestamp"),
            "model_digest": record.get("model_digest"),
            "deleted_by": who(ident),
        }
        entry.aliases = {a: t for a, t in entry.aliases.items() if int(t["version"]) != number}
        _touch(entry.record)
        return f"registry: delete {name} version {number}", None

    _change(store, edit)


def set_version_tag(
    store: TrackingStore, name: str, version: Any, key: str, value: Any, delete: bool = False
) -> None:
    def edit(registry: state.Registry, ident: str) -> tuple[str, None]:
        record = _version(_model(registry, name), name, version)
        tags = dict(record.get("tags") or {})
        if delete:
            if key not in tags:
                raise ResourceDoesNotExist(f"No tag with key {key!r} on {name} version {record['version']}")
            del tags[key]
        else:
            tags.update(_tags({key: value}))
        record["tags"] = tags
        _touch(record)
        return (
            f"registry: {'delete' if delete else 'set'} tag {key} of {name} version {record['version']}",
            None,
        )

    _change(store, edit)


# -- aliases -------------------------------------------------------------------------------------


def _alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidParameterValue(f"Invalid alias {alias!r}: use letters, digits, '_' and '-'")
    if _RESERVED_ALIAS.match(alias):
        raise InvalidParameterValue(f"Alias {alias!r} is reserved (it reads as a version: 'latest', 'v<n>')")
    return alias


def set_alias(store: TrackingStore, name: str, alias: str, version: Any) -> None:
    alias = _alias(alias)

    def edit(registry: state.Registry, ident: str) -> tuple[str, None]:
        entry = _model(registry, name)
        number = int(_version(entry, name, version)["version"])
        before = entry.aliases.get(alias)
        entry.aliases[alias] = {"version": number, "set_by": who(ident), "set_at": _now()}
        _touch(entry.record)
        was = f" (was {before['version']})" if before else ""
        return f"registry: alias {name}@{alias} -> version {number}{was}", None

    _change(store, edit)


def delete_alias(store: TrackingStore, name: str, alias: str) -> None:
    def edit(registry: state.Registry, ident: str) -> tuple[str, None]:
        entry = _model(registry, name)
        if alias not in entry.aliases:
            raise ResourceDoesNotExist(f"Registered model alias {alias} not found for model {name}")
        was = entry.aliases.pop(alias)
        _touch(entry.record)
        return f"registry: remove alias {name}@{alias} (was version {was['version']})", None

    _change(store, edit)


def version_by_alias(store: TrackingStore, name: str, alias: str) -> ModelVersion:
    entry = _model(_store(store).read(), name)
    target = entry.aliases.get(alias)
    if target is None:
        raise ResourceDoesNotExist(f"Registered model alias {alias} not found for model {name}")
    return to_version(name, _version(entry, name, target["version"]), entry.aliases)


def history(store: TrackingStore) -> list[tuple[str, str, str]]:
    """``(commit, identity, message)`` of every registry change, newest first (``git log``)."""
    repo = store.repo
    out = []
    seen = set()
    pending = [t] if (t := _store(store).tip()) else []
    while pending:
        oid = pending.pop(0)
        if oid in seen:
            continue
        seen.add(oid)
        commit = repo.read_commit(oid)
        out.append((str(oid), commit.author, commit.message.strip()))
        pending.extend(commit.parents)
    return sorted(
        out, key=lambda item: int(item[1].rsplit(" ", 2)[1]) if item[1].count(" ") >= 2 else 0, reverse=True
    )
