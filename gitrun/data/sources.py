"""Where a dataset came from (MLflow's ``DatasetSource``): a file, a URL, a hub, the code."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetSource:
    """A dataset's origin: ``source_type`` and the JSON that describes it (``to_json``)."""

    source_type: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.details, sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.details)

    @property
    def uri(self) -> str | None:
        value = self.details.get("uri")
        return None if value is None else str(value)

    def load(self) -> str:
        """The local path of a local source (other sources are not downloaded by gitrun)."""
        uri = self.uri
        if self.source_type == "local" and uri is not None:
            return uri[len("file://") :] if uri.startswith("file://") else uri
        from gitrun.errors import InvalidParameterValue

        raise InvalidParameterValue(f"gitrun cannot load a {self.source_type!r} dataset source")


_SCHEMES = {"http": "http", "https": "http", "s3": "s3", "gs": "gcs", "hf": "hugging_face", "dbfs": "dbfs"}


def resolve_source(source: Any) -> DatasetSource:
    """A :class:`DatasetSource` from what the user passed (None: the code that logged it)."""
    if isinstance(source, DatasetSource):
        return source
    if source is None:
        return code_source()
    text = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("", "file"):
        path = text[len("file://") :] if scheme == "file" else text
        return DatasetSource("local", {"uri": os.path.abspath(path)})
    return DatasetSource(_SCHEMES.get(scheme, scheme), {"uri": text})


def code_source() -> DatasetSource:
    """MLflow's ``CodeDatasetSource``: the script (and its type) that built the data."""
    from gitrun.tracking.capture import source

    found = source.source()
    return DatasetSource(
        "code", {"tags": {"mlflow.source.name": found["name"], "mlflow.source.type": found["type"]}}
    )


def hugging_face_source(
    path: str | None, revision: str | None = None, split: str | None = None
) -> DatasetSource:
    details: dict[str, Any] = {"path": path}
    if revision is not None:
        details["revision"] = revision
    if split is not None:
        details["split"] = split
    return DatasetSource("hugging_face", details)
