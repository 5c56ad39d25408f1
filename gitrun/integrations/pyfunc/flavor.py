"""``gitrun.pyfunc``: log custom ``PythonModel``s, load any model as a ``PyFuncModel``.

A python model is saved as::

    MLmodel                      flavor python_function (python_model, artifacts, digest)
    python_model.pkl             the PythonModel object (cloudpickle when installed)
    artifacts/<name>/<basename>  each artifact (file or folder), copied in

Loading verifies ``python_model.pkl`` against the descriptor's digest before
unpickling it, then calls ``load_context`` with the artifacts' local paths.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.errors import InvalidParameterValue
from gitrun.integrations.models import pickles
from gitrun.integrations.models.descriptor import PYFUNC, ModelDescriptor
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor, warn_ignored
from gitrun.integrations.models.location import is_remote, local_model
from gitrun.integrations.models.saving import SaveOptions, Serialized, log, model_name, save
from gitrun.integrations.models.signature import ModelSignature
from gitrun.integrations.pyfunc.model import PyFuncModel, PythonModel, PythonModelContext, PythonModelRunner

MODEL_FILE = "python_model.pkl"
LOADER_MODULE = "gitrun.pyfunc"


def _serializer(python_model: PythonModel, artifacts: dict[str, str] | None) -> Any:
    def write(folder: Path) -> Serialized:
        try:
            import cloudpickle  # noqa: F401 - classes defined in a notebook pickle by value

            wanted = "cloudpickle"
        except ImportError:
            wanted = "pickle"
        fmt, digest = pickles.dump(python_model, folder / MODEL_FILE, wanted)
        copied = {name: _copy_artifact(folder, name, source) for name, source in (artifacts or {}).items()}
        conf = {
            "artifacts": copied,
            "digest": digest,
            "python_model": MODEL_FILE,
            "serialization_format": fmt,
        }
        modules = {type(python_model).__module__, *(["cloudpickle"] if fmt == "cloudpickle" else [])}
        return Serialized(PYFUNC, conf, MODEL_FILE, LOADER_MODULE, frozenset(modules))

    return write


def _copy_artifact(folder: Path, name: str, source: str) -> dict[str, str]:
    if "/" in name or name in ("", ".", ".."):
        raise InvalidParameterValue(f"invalid artifact name {name!r}")
    target = folder / "artifacts" / name
    target.mkdir(parents=True)
    if str(source).startswith("runs:/"):
        from gitrun.tracking import fluent
        from gitrun.tracking.artifacts.uri import parse_runs_uri

        run_id, path = parse_runs_uri(str(source))
        local = Path(fluent._client().download_artifacts(run_id, path or "", str(target)))
    else:
        origin = Path(source)
        if not origin.exists():
            raise InvalidParameterValue(f"artifact {name!r}: {source} does not exist")
        local = target / origin.resolve().name
        if origin.is_dir():
            shutil.copytree(origin, local, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(origin), str(local))
    return {"path": local.relative_to(folder).as_posix(), "uri": str(source)}


def _link_or_copy(source: str, target: str) -> None:
    # A checkpoint can be gigabytes: a hard link avoids copying it into the temporary folder.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel | None = None,
    artifacts: dict[str, str] | None = None,
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a :class:`PythonModel` (with its artifacts) into the new folder ``path``."""
    if python_model is None:
        raise InvalidParameterValue(
            "gitrun.pyfunc.save_model needs python_model= (loader_module is not supported)"
        )
    options = SaveOptions(signature, input_example, pip_requirements, extra_pip_requirements, metadata)
    save(path, _serializer(python_model, artifacts), options)


def log_model(
    name: str | None = None,
    python_model: PythonModel | None = None,
    artifacts: dict[str, str] | None = None,
    *,
    artifact_path: str | None = None,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
    conda_env: Any = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a :class:`PythonModel` and its ``artifacts`` (name -> local path or ``runs:/`` URI)."""
    warn_ignored("registered_model_name", registered_model_name)
    warn_ignored("conda_env", conda_env)
    if python_model is None:
        raise InvalidParameterValue(
            "gitrun.pyfunc.log_model needs python_model= (loader_module is not supported)"
        )
    options = SaveOptions(signature, input_example, pip_requirements, extra_pip_requirements, metadata)
    return log(model_name(name, artifact_path), _serializer(python_model, artifacts), options, run_id)


def load_model(
    model_uri: str | os.PathLike[str],
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | None = None,
) -> PyFuncModel:
    """Load a model of any flavor as a :class:`PyFuncModel` (``.predict(data)``).

    A python model's artifacts must stay on disk while it is used: when such a
    model is downloaded without ``dst_path``, its temporary folder is kept.
    """
    remote = is_remote(model_uri)
    target = dst_path if dst_path is not None or not remote else None
    keep = None
    if remote and target is None:
        keep = tempfile.mkdtemp(prefix="gitrun-model-")
        target = keep
    with local_model(model_uri, target) as folder:
        descriptor = ModelDescriptor.load(folder)
        conf = descriptor.flavor(PYFUNC, model_uri)
        loader = str(conf.get("loader_module", ""))
        if not loader.startswith("gitrun."):
            raise InvalidParameterValue(
                f"the model at {model_uri} needs loader module {loader!r}; gitrun loads only its own flavors"
            )
        module = importlib.import_module(loader)
        if loader == LOADER_MODULE:
            impl = _load_python_model(folder, model_config)
        else:
            impl = module._load_pyfunc(folder)
            if keep is not None:
                shutil.rmtree(keep, ignore_errors=True)  # the model is in memory now
    return PyFuncModel(descriptor, impl, loader)


def _load_python_model(folder: Path, model_config: dict[str, Any] | None) -> PythonModelRunner:
    with open_flavor(folder, PYFUNC) as opened:
        fmt = str(opened.conf.get("serialization_format", "pickle"))
        model = pickles.load(opened.file("python_model"), opened.conf.get("digest"), fmt)
        paths = {
            name: str((folder / entry["path"]).resolve())
            for name, entry in opened.conf.get("artifacts", {}).items()
        }
    context = PythonModelContext(paths, dict(model_config or {}))
    model.load_context(context)
    return PythonModelRunner(model, context)


def _load_pyfunc(path: str | os.PathLike[str]) -> PythonModelRunner:
    return _load_python_model(Path(path), None)
