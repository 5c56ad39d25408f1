"""Signatures enforced at predict time, as MLflow's pyfunc models enforce them.

``PyFuncModel.predict(data)`` checks ``data`` against the model's input schema
before the model sees it:

* columns (a DataFrame schema): every required column must be there (a clear
  error names the missing ones); extra columns are dropped; a column whose type
  differs is converted when no information is lost (``int`` to ``long`` or
  ``double``, ``float`` to ``double``), refused otherwise (``double`` to ``long``);
  a dict or a list of dicts is turned into a DataFrame first;
* tensors: the dtype must match, widen safely, or be a float of another precision
  (cast; MLflow refuses that one), and every fixed dimension of the shape (not
  ``-1``) must match;
* params: unknown names are refused, missing ones get their default; a model
  whose signature declares none ignores them with a warning (MLflow's rule).

A model with no signature is called unchanged.
"""

from __future__ import annotations

from typing import Any

from gitrun.errors import InvalidParameterValue
from gitrun.integrations.models.signature import ColSpec, ModelSignature, Schema, TensorSpec

# Column type -> the numpy kinds/sizes it accepts without losing information.
_SAFE: dict[str, set[str]] = {
    "boolean": {"bool"},
    "integer": {"int8", "int16", "int32", "uint8", "uint16"},
    "long": {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"},
    "float": {"float16", "float32", "int8", "int16", "uint8"},
    "double": {"float16", "float32", "float64", "int8", "int16", "int32", "uint8", "uint16", "uint32"},
}
_NUMPY = {"boolean": "bool", "integer": "int32", "long": "int64", "float": "float32", "double": "float64"}


def enforce_input(signature: ModelSignature | None, data: Any) -> Any:
    """``data`` checked (and safely converted) against the signature's inputs."""
    if signature is None or signature.inputs is None or not signature.inputs.inputs:
        return data
    schema = signature.inputs
    if schema.is_tensor_spec():
        return _enforce_tensors(schema, data)
    return _enforce_columns(schema, data)


def enforce_params(signature: ModelSignature | None, params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Predict-time params checked against the signature's params (defaults filled in)."""
    if signature is None or not signature.params:
        if params and signature is not None:
            import warnings

            warnings.warn(
                f"this model's signature declares no params: {sorted(params)} are ignored "
                "(log the model with infer_signature(..., params={...}) to pass them)",
                UserWarning,
                stacklevel=3,
            )
            return None
        return params
    declared = {p["name"]: p for p in signature.params}
    unknown = sorted(set(params or {}) - set(declared))
    if unknown:
        raise InvalidParameterValue(f"unknown params {unknown}; the signature declares {sorted(declared)}")
    return {name: (params or {}).get(name, spec.get("default")) for name, spec in declared.items()}


def _enforce_columns(schema: Schema, data: Any) -> Any:
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if isinstance(data, dict):
        data = (
            pd.DataFrame([data])
            if all(not hasattr(v, "__len__") or isinstance(v, str) for v in data.values())
            else pd.DataFrame(data)
        )
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        data = pd.DataFrame(data)
    names = [s.name for s in specs]
    if not hasattr(data, "columns"):
        if any(name is not None for name in names):
            import numpy as np

            array = np.asarray(data)
            if array.ndim != 2 or array.shape[1] != len(specs):
                raise InvalidParameterValue(
                    f"the model expects a DataFrame with columns {names}; got {type(data).__name__} "
                    f"of shape {getattr(array, 'shape', '?')}"
                )
            data = pd.DataFrame(array, columns=names)
        else:
            return data
    missing = [s.name for s in specs if s.required and s.name is not None and s.name not in data.columns]
    if missing:
        raise InvalidParameterValue(
            f"the model's input is missing column(s) {missing}; it expects {names} (see its signature)"
        )
    present = [s for s in specs if s.name is None or s.name in data.columns]
    if all(s.name is not None for s in present):
        data = data[[s.name for s in present]]
    out = data.copy() if present else data
    for spec in present:
        if spec.name is None:
            continue
        out[spec.name] = _convert(out[spec.name], spec)
    return out


def _convert(column: Any, spec: ColSpec) -> Any:
    dtype = str(column.dtype)
    wanted = spec.type
    if wanted in ("string", "binary", "datetime") or wanted not in _SAFE:
        if wanted == "string" and dtype not in ("object", "string", "str") and not dtype.startswith("string"):
            raise InvalidParameterValue(f"column {spec.name!r} must hold strings, got {dtype}")
        return column
    if dtype == _NUMPY[wanted]:
        return column
    if dtype in _SAFE[wanted]:
        return column.astype(_NUMPY[wanted])
    raise InvalidParameterValue(
        f"column {spec.name!r} has type {dtype}, which cannot be converted to {wanted} without losing "
        "information (convert it first, or log the model with a matching signature)"
    )


def _enforce_tensors(schema: Schema, data: Any) -> Any:
    import numpy as np

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if isinstance(data, dict) and len(specs) > 1:
        return {spec.name: _check_tensor(spec, data.get(spec.name)) for spec in specs}
    if hasattr(data, "to_numpy") and not hasattr(data, "detach"):
        data = data.to_numpy()
    if hasattr(data, "detach"):  # a torch tensor: checked, passed on unchanged
        _check_tensor(specs[0], data.detach().cpu().numpy())
        return data
    return _check_tensor(specs[0], np.asarray(data))


def _check_tensor(spec: TensorSpec, value: Any) -> Any:
    import numpy as np

    if value is None:
        raise InvalidParameterValue(f"the model's input {spec.name!r} is missing")
    array = np.asarray(value)
    if len(spec.shape) != array.ndim or any(w not in (-1, g) for w, g in zip(spec.shape, array.shape)):
        raise InvalidParameterValue(
            f"the model expects an array of shape {list(spec.shape)} (-1: any size), got {list(array.shape)}"
        )
    wanted = np.dtype(spec.dtype) if spec.dtype != "str" else None
    if wanted is None or array.dtype == wanted:
        return array
    # Floats of another precision are cast (a float64 batch for float32 weights is the
    # common case; MLflow refuses it); anything else only when the cast is safe.
    if np.can_cast(array.dtype, wanted, casting="safe") or (array.dtype.kind == wanted.kind == "f"):
        return array.astype(wanted)
    raise InvalidParameterValue(
        f"the model expects {spec.dtype} values, got {array.dtype}: convert them first "
        "(the cast would lose information)"
    )
