"""The PyTorch flavor: the whole ``nn.Module`` saved with ``torch.save``, verified on load.

Layout::

    MLmodel, requirements.txt, input_example.json (optional)
    data/model.pth      torch.save(model): weights + the pickled module object
    data/model.pt       torch.jit.save(model), for a TorchScript module (scripted or traced)

Why the whole module and not only a state dict: ``load_model`` must give back a
model without the user's help (the tutorial loads the best run's model by URI),
which a state dict alone cannot.  The module's class is pickled by reference, so
its code must be importable where the model is loaded (as with MLflow's
``serialization_format="pickle"``); MLflow 3's default (``torch.export``) needs an
input example and gives a graph, not the user's module.  Loading unpickles:
gitrun re-hashes the file against the descriptor's digest first, and loads only
models from stores you trust.
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

FLAVOR = "pytorch"
MODEL_FILE = "data/model.pth"
SCRIPT_FILE = "data/model.pt"
LOADER_MODULE = "gitrun.pytorch"


def _serializer(model: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import torch

        scripted = isinstance(model, torch.jit.ScriptModule)
        target = folder / (SCRIPT_FILE if scripted else MODEL_FILE)
        target.parent.mkdir(parents=True, exist_ok=True)
        if scripted:  # TorchScript: code and weights in torch's own archive, no pickle of classes
            torch.jit.save(model, str(target))
        else:
            torch.save(model, target)
        conf = {
            "code": None,
            "digest": file_digest(target),
            "model_data": "data",
            "model_file": target.relative_to(folder).as_posix(),
            "pytorch_version": str(torch.__version__),
            "serialization_format": "torchscript" if scripted else "pickle",
        }
        modules = {"torch"} if scripted else {"torch", type(model).__module__}
        return Serialized(FLAVOR, conf, str(conf["model_file"]), LOADER_MODULE, frozenset(modules))

    return write


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    conda_env: Any = None,
) -> None:
    """Save a ``torch.nn.Module`` (a LightningModule too) into the new folder ``path``."""
    warn_ignored("conda_env", conda_env)
    predict = _TorchPyfunc(pytorch_model).predict
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, predict
    )
    save(path, _serializer(pytorch_model), options)


def log_model(
    pytorch_model: Any,
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
    serialization_format: str = "pickle",
    code_paths: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a ``torch.nn.Module`` as ``<name>/`` (default ``model``) of the active run (started if none).

    ``serialization_format`` accepts only ``"pickle"`` (MLflow's ``"pt2"`` is not supported).
    """
    if serialization_format != "pickle":
        from gitrun.errors import InvalidParameterValue

        raise InvalidParameterValue(
            "gitrun saves PyTorch models with torch.save only (serialization_format='pickle')"
        )
    predict = _TorchPyfunc(pytorch_model).predict
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
    return log(logged, _serializer(pytorch_model), options, run_id)


def load_model(
    model_uri: str | os.PathLike[str], dst_path: str | None = None, map_location: Any = None
) -> Any:
    """Load the ``nn.Module`` saved at ``runs:/<run_id>/<name>`` or a local folder.

    The module's class must be importable.  ``map_location`` is passed to
    ``torch.load`` (e.g. ``"cpu"`` for a model saved on a GPU).
    """
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        torch = check_library("torch", "torch", opened.conf.get("pytorch_version"))
        path = opened.file("model_file")
        verify_file(path, opened.conf.get("digest"))
        if opened.conf.get("serialization_format") == "torchscript":
            return torch.jit.load(str(path), map_location=map_location)
        # weights_only=False unpickles the module object; the file was verified just above.
        return torch.load(path, map_location=map_location, weights_only=False)


class _TorchPyfunc:
    """``predict()`` for a module: arrays/DataFrames in, numpy out, no gradients."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import torch

        if hasattr(data, "to_numpy"):
            data = data.to_numpy()
        tensor = data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(data))
        first = next(iter(self._model.parameters()), None)
        if first is not None and tensor.is_floating_point() and tensor.dtype != first.dtype:
            tensor = tensor.to(first.dtype)  # float64 numpy input, float32 weights
        was_training = self._model.training
        self._model.eval()
        try:
            with torch.no_grad():
                output = self._model(tensor)
        finally:
            self._model.train(was_training)
        return output.detach().cpu().numpy() if isinstance(output, torch.Tensor) else output

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _TorchPyfunc:
    return _TorchPyfunc(load_model(path))
