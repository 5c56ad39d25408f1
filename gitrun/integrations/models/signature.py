"""Model signatures: what a model takes and returns, in MLflow's JSON format.

A signature is stored in the model descriptor as JSON strings, so that tools
written for MLflow read it unchanged::

    inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]'
    inputs: '[{"type": "double", "name": "a", "required": true}, ...]'   # columns

Inference looks at types and shapes only (never at values), so it is cheap even
for a large training set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gitrun.errors import InvalidParameterValue

# numpy dtype kind/itemsize -> MLflow column type.
_COLUMN_TYPES = {
    ("b", 1): "boolean",
    ("i", 1): "integer",
    ("i", 2): "integer",
    ("i", 4): "integer",
    ("i", 8): "long",
    ("u", 1): "integer",
    ("u", 2): "integer",
    ("u", 4): "long",
    ("f", 2): "float",
    ("f", 4): "float",
    ("f", 8): "double",
}


@dataclass(frozen=True)
class ColSpec:
    """One named (or unnamed) column of a tabular input."""

    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """An array input: numpy dtype name and shape (``-1`` = any size)."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)},
        }
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class Schema:
    """A list of column or tensor specs."""

    inputs: tuple[ColSpec | TensorSpec, ...]

    def to_json(self) -> str:
        return json.dumps([spec.to_dict() for spec in self.inputs])

    @classmethod
    def from_json(cls, text: str) -> Schema:
        specs: list[ColSpec | TensorSpec] = []
        for item in json.loads(text):
            if item.get("type") == "tensor":
                tensor = item["tensor-spec"]
                specs.append(TensorSpec(tensor["dtype"], tuple(tensor["shape"]), item.get("name")))
            else:
                specs.append(ColSpec(item["type"], item.get("name"), item.get("required", True)))
        return cls(tuple(specs))

    def input_names(self) -> list[str | None]:
        return [spec.name for spec in self.inputs]

    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and all(isinstance(s, TensorSpec) for s in self.inputs)


@dataclass(frozen=True)
class ModelSignature:
    """Inputs, outputs and (optionally) inference params of a model."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: list[dict[str, Any]] | None = field(default=None)

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's stored form: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": json.dumps(self.params) if self.params else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        return cls(
            Schema.from_json(data["inputs"]) if data.get("inputs") else None,
            Schema.from_json(data["outputs"]) if data.get("outputs") else None,
            json.loads(data["params"]) if data.get("params") else None,
        )


def infer_signature(
    model_input: Any, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """The signature of a model from an example input (and output).

    Accepts numpy arrays, pandas DataFrames and Series, lists, dicts of arrays,
    torch tensors, and scalars.  Example: ``infer_signature(X_train, model.predict(X_train))``.
    """
    outputs = infer_schema(model_output) if model_output is not None else None
    param_specs = [_param_spec(k, v) for k, v in params.items()] if params else None
    return ModelSignature(infer_schema(model_input), outputs, param_specs)


def infer_schema(data: Any) -> Schema:
    """The schema of one example value (see :func:`infer_signature`)."""
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        if hasattr(data, "columns"):
            return Schema(tuple(ColSpec(_column_type(data[c]), str(c)) for c in data.columns))
        name = data.name if data.name is not None else None
        return Schema((ColSpec(_column_type(data), None if name is None else str(name)),))
    if isinstance(data, dict):
        return Schema(tuple(_tensor(_as_array(v), str(k)) for k, v in data.items()))
    if isinstance(data, str):
        return Schema((ColSpec("string"),))
    return Schema((_tensor(_as_array(data), None),))


def _as_array(data: Any) -> Any:
    import numpy as np

    if hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
        data = data.detach().cpu().numpy()
    elif hasattr(data, "toarray") and hasattr(data, "nnz"):  # a scipy sparse matrix
        return np.empty((0, *data.shape[1:]), dtype=data.dtype)
    try:
        return np.asarray(data)
    except (TypeError, ValueError) as error:
        raise InvalidParameterValue(f"cannot infer a signature from {type(data).__name__}: {error}") from None


def _tensor(array: Any, name: str | None) -> TensorSpec:
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    dtype = "str" if array.dtype.kind == "U" else array.dtype.name
    return TensorSpec(dtype, tuple(int(s) for s in shape), name)


def _column_type(series: Any) -> str:
    dtype = series.dtype
    kind = getattr(dtype, "kind", "O")
    if kind == "M":
        return "datetime"
    known = _COLUMN_TYPES.get((kind, getattr(dtype, "itemsize", 0)))
    if known:
        return known
    if len(series) and isinstance(series.iloc[0], bytes):
        return "binary"
    return "string"


def _param_spec(name: str, value: Any) -> dict[str, Any]:
    kinds = {bool: "boolean", int: "long", float: "double", str: "string"}
    kind = kinds.get(type(value))
    if kind is None:
        raise InvalidParameterValue(f"param {name!r}: only bool, int, float and str defaults are supported")
    return {"name": name, "default": value, "shape": None, "type": kind}
