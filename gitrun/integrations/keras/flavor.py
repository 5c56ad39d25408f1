"""The Keras 3 flavor: the native ``.keras`` file, loaded in Keras' safe mode.

Layout::

    MLmodel, requirements.txt, input_example.json (optional)
    data/model.keras     model.save(): architecture, weights, optimizer state

The ``.keras`` format holds no pickled code: ``load_model`` uses Keras' own
loader with ``safe_mode=True`` (lambda layers are refused unless you pass
``safe_mode=False``).  The file is still checked against the descriptor's digest.
A ``.keras`` file records when it was saved, so each save of a model gives new
bytes: unlike pickled models, identical Keras models are not deduplicated.
The backend that saved the model (torch, tensorflow, jax) is recorded; Keras 3
files load on any backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.integrations.models.descriptor import check_library, file_digest, verify_file
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor, warn_ignored
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "keras"
MODEL_FILE = "data/model.keras"
LOADER_MODULE = "gitrun.keras"
_BACKEND_MODULES = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax", "numpy": "numpy"}


def _serializer(model: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import keras

        target = folder / MODEL_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        model.save(target)
        backend = keras.backend.backend()
        conf = {
            "digest": file_digest(target),
            "keras_backend": backend,
            "keras_version": keras.__version__,
            "model_file": MODEL_FILE,
            "save_format": "keras",
        }
        modules = {"keras", "numpy", _BACKEND_MODULES.get(backend, backend)}
        return Serialized(FLAVOR, conf, MODEL_FILE, LOADER_MODULE, frozenset(modules))

    return write


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    conda_env: Any = None,
) -> None:
    """Save a Keras model into the new folder ``path``."""
    warn_ignored("conda_env", conda_env)
    predict = _KerasPyfunc(model).predict
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, predict
    )
    save(path, _serializer(model), options)


def log_model(
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a Keras model as ``<name>/`` (default ``model``) of the active run (started if none)."""
    predict = _KerasPyfunc(model).predict
    options = SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        predict,
        code_paths=code_paths,
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(model), options, run_id)


def load_model(
    model_uri: str | os.PathLike[str],
    dst_path: str | None = None,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Load the Keras model at ``runs:/<run_id>/<name>`` or a local folder."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        keras = check_library("keras", "keras", opened.conf.get("keras_version"))
        path = opened.file("model_file")
        verify_file(path, opened.conf.get("digest"))
        return keras.saving.load_model(
            path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )


class _KerasPyfunc:
    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if hasattr(data, "to_numpy"):
            data = data.to_numpy()
        return self._model.predict(data, verbose=0)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _KerasPyfunc:
    return _KerasPyfunc(load_model(path))
