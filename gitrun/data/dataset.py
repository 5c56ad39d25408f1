"""Dataset objects (MLflow's ``mlflow.data.Dataset`` and its pandas, numpy and Hugging Face kinds).

A dataset has a ``name``, a content ``digest`` (``sha256:<hex>``, see
:mod:`gitrun.data.digest`), a ``source``, a ``schema`` and a ``profile``.
``gitrun.log_input(dataset, context="training")`` records it in the run; the run's
``inputs.dataset_inputs`` lists it and ``dataset.name/digest/context`` filters find it.
"""

from __future__ import annotations

import json
from typing import Any

from gitrun.data.digest import arrays_digest, frame_digest
from gitrun.data.sources import DatasetSource, hugging_face_source, resolve_source
from gitrun.tracking import entities as ent

DEFAULT_NAME = "dataset"


class Dataset:
    """What every dataset kind shares; ``_to_mlflow_entity`` gives the run's record."""

    def __init__(self, source: DatasetSource, name: str | None, digest: str) -> None:
        self._source = source
        self._name = name or DEFAULT_NAME
        self._digest = digest

    @property
    def name(self) -> str:
        return self._name

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema(self) -> Any:
        return None

    @property
    def profile(self) -> dict[str, Any] | None:
        return None

    def _schema_json(self) -> str | None:
        return None

    def to_dict(self) -> dict[str, str]:
        """MLflow's dict form: every value a string (source, schema and profile as JSON)."""
        out = {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source.source_type,
        }
        schema = self._schema_json()
        if schema is not None:
            out["schema"] = schema
        if self.profile is not None:
            out["profile"] = json.dumps(self.profile, sort_keys=True)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def _to_mlflow_entity(self) -> ent.Dataset:
        data = self.to_dict()
        return ent.Dataset(
            data["name"],
            data["digest"],
            data["source_type"],
            data["source"],
            data.get("schema"),
            data.get("profile"),
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest!r}>"


class PandasDataset(Dataset):
    """A DataFrame (``df``), with optional ``targets`` and ``predictions`` column names."""

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        from gitrun.errors import InvalidParameterValue

        for column in (targets, predictions):
            if column is not None and column not in df.columns:
                raise InvalidParameterValue(f"column {column!r} is not in the DataFrame ({list(df.columns)})")
        super().__init__(source, name, digest or frame_digest(df))
        self._df = df
        self._targets = targets
        self._predictions = predictions

    @property
    def df(self) -> Any:
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def predictions(self) -> str | None:
        return self._predictions

    @property
    def features(self) -> Any:
        drop = [c for c in (self._targets, self._predictions) if c is not None]
        return self._df.drop(columns=drop) if drop else self._df

    @property
    def profile(self) -> dict[str, Any]:
        rows, columns = self._df.shape
        return {"num_rows": int(rows), "num_elements": int(rows * columns)}

    @property
    def schema(self) -> Any:
        from gitrun.integrations.models.signature import infer_schema

        return infer_schema(self._df)

    def _schema_json(self) -> str:
        specs = json.loads(self.schema.to_json())
        return json.dumps({"mlflow_colspec": specs})


class NumpyDataset(Dataset):
    """A features array (or dict of arrays) with optional ``targets``."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        super().__init__(source, name, digest or arrays_digest(features, targets))
        self._features = features
        self._targets = targets

    @property
    def features(self) -> Any:
        return self._features

    @property
    def targets(self) -> Any:
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        import numpy as np

        out: dict[str, Any] = {}
        for label, value in (("features", self._features), ("targets", self._targets)):
            if value is None:
                continue
            if isinstance(value, dict):
                arrays = {k: np.asarray(a) for k, a in value.items()}
                out[f"{label}_shape"] = {k: list(a.shape) for k, a in arrays.items()}
                out[f"{label}_size"] = {k: int(a.size) for k, a in arrays.items()}
                out[f"{label}_nbytes"] = {k: int(a.nbytes) for k, a in arrays.items()}
            else:
                array = np.asarray(value)
                out[f"{label}_shape"] = list(array.shape)
                out[f"{label}_size"] = int(array.size)
                out[f"{label}_nbytes"] = int(array.nbytes)
        return out

    @property
    def schema(self) -> Any:
        from gitrun.integrations.models.signature import infer_schema

        return {
            "features": infer_schema(self._features),
            "targets": infer_schema(self._targets) if self._targets is not None else None,
        }

    def _schema_json(self) -> str:
        schema = self.schema
        specs = {k: (v.to_json() if v is not None else None) for k, v in schema.items()}
        return json.dumps({"mlflow_tensorspec": specs})


class HuggingFaceDataset(Dataset):
    """A Hugging Face ``datasets.Dataset`` (or anything with ``to_pandas`` and ``num_rows``)."""

    def __init__(
        self,
        ds: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        super().__init__(source, name, digest or frame_digest(ds.to_pandas()))
        self._ds = ds
        self._targets = targets

    @property
    def ds(self) -> Any:
        return self._ds

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        out: dict[str, Any] = {"num_rows": int(self._ds.num_rows)}
        for attribute in ("dataset_size", "size_in_bytes"):
            value = getattr(self._ds, attribute, None)
            if isinstance(value, int):
                out[attribute] = value
        return out

    def _schema_json(self) -> str | None:
        features = getattr(self._ds, "features", None)
        if features is None:
            return None
        if hasattr(features, "to_dict"):
            return json.dumps({"hf_features": features.to_dict()}, default=str)
        return json.dumps({"hf_features": {str(k): str(v) for k, v in dict(features).items()}})


def from_pandas(
    df: Any,
    source: Any = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A dataset of a pandas DataFrame; ``source`` a path, URL or :class:`DatasetSource`."""
    return PandasDataset(df, resolve_source(source), targets, name, digest, predictions)


def from_numpy(
    features: Any, source: Any = None, targets: Any = None, name: str | None = None, digest: str | None = None
) -> NumpyDataset:
    """A dataset of a numpy array (or dict of arrays), with optional targets."""
    return NumpyDataset(features, resolve_source(source), targets, name, digest)


def from_huggingface(
    ds: Any,
    path: str | None = None,
    targets: str | None = None,
    data_dir: str | None = None,
    data_files: Any = None,
    revision: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    trust_remote_code: bool | None = None,
    source: Any = None,
) -> HuggingFaceDataset:
    """A dataset of a Hugging Face ``datasets.Dataset`` (its hub ``path`` is the source)."""
    if source is None:
        info = getattr(ds, "info", None)
        source = hugging_face_source(
            path or getattr(info, "dataset_name", None), revision, str(getattr(ds, "split", "") or "") or None
        )
    return HuggingFaceDataset(ds, resolve_source(source), targets, name, digest)
