"""The registry as plain values, and as a git tree.

A :class:`Registry` maps each model name to a :class:`ModelEntry` (the model's
record, its versions by number, its aliases).  Records are dicts of YAML scalars
so that they round-trip unchanged; reading builds the whole registry (registries
hold tens to thousands of versions, each a small file) and writing re-uses the
blob of every unchanged file (same bytes, same object id).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.records import yamlfmt
from gitrun.core.registry import layout
from gitrun.errors import InvalidRecord


@dataclass
class ModelEntry:
    record: dict[str, Any]
    versions: dict[int, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)


Registry = dict[str, ModelEntry]


def copy_of(registry: Registry) -> Registry:
    return copy.deepcopy(registry)


def _load(repo: Repository, oid: Oid, where: str) -> dict[str, Any]:
    data = yamlfmt.load(repo.read_blob(oid), where)
    if not isinstance(data, dict):
        raise InvalidRecord(f"{where} should hold a mapping")
    return data


def read(repo: Repository, tree: Oid | None) -> Registry:
    """The registry stored in ``tree`` (empty for None)."""
    if tree is None:
        return {}
    root = repo.read_tree(tree)
    info = root.get(layout.STORE_FILE)
    if info is not None:
        version = _load(repo, info.oid, layout.STORE_FILE).get("schema_version")
        if not isinstance(version, int) or version > layout.SCHEMA_VERSION:
            raise InvalidRecord(
                f"the model registry uses schema version {version!r}; this gitrun reads up to "
                f"{layout.SCHEMA_VERSION}: upgrade gitrun"
            )
    models = root.get(layout.MODELS_DIR)
    out: Registry = {}
    if models is None:
        return out
    for encoded, entry in repo.read_tree(models.oid).items():
        files = repo.read_tree(entry.oid)
        name = layout.name_of(encoded)
        record = _load(repo, files[layout.MODEL_FILE].oid, f"registered model {name}")
        model = ModelEntry(record)
        if layout.VERSIONS_DIR in files:
            for file, item in repo.read_tree(files[layout.VERSIONS_DIR].oid).items():
                model.versions[int(file.removesuffix(".yaml"))] = _load(
                    repo, item.oid, f"{name} version {file}"
                )
        if layout.ALIASES_FILE in files:
            model.aliases = _load(repo, files[layout.ALIASES_FILE].oid, f"{name} aliases")
        out[name] = model
    return out


def write(repo: Repository, registry: Registry) -> Oid:
    """The tree of ``registry`` (deterministic: the same registry gives the same tree id)."""

    def blob(name: str, data: dict[str, Any]) -> TreeEntry:
        return TreeEntry(name, MODE_BLOB, repo.write_blob(yamlfmt.dump(data).encode()))

    models: dict[str, TreeEntry] = {}
    for name, model in registry.items():
        files = {layout.MODEL_FILE: blob(layout.MODEL_FILE, model.record)}
        if model.versions:
            versions = {
                layout.version_file(n): blob(layout.version_file(n), record)
                for n, record in model.versions.items()
            }
            files[layout.VERSIONS_DIR] = TreeEntry(layout.VERSIONS_DIR, MODE_TREE, repo.write_tree(versions))
        if model.aliases:
            files[layout.ALIASES_FILE] = blob(layout.ALIASES_FILE, model.aliases)
        encoded = layout.model_dir(name).split("/", 1)[1]
        models[encoded] = TreeEntry(encoded, MODE_TREE, repo.write_tree(files))
    root = {layout.STORE_FILE: blob(layout.STORE_FILE, {"schema_version": layout.SCHEMA_VERSION})}
    if models:
        root[layout.MODELS_DIR] = TreeEntry(layout.MODELS_DIR, MODE_TREE, repo.write_tree(models))
    return repo.write_tree(root)
