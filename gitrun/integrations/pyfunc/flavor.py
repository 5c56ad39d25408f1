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
from gitrun.integrations.models.descriptor import PYFUNC, ModelDescriptor, file_digest, verify_file
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor
from gitrun.integrations.models.location import is_remote, local_model
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature
from gitrun.integrations.pyfunc.code_model import CODE_FILE, FunctionModel, run_file
from gitrun.integrations.pyfunc.model import PyFuncModel, PythonModel, PythonModelContext, PythonModelRunner

MODEL_FILE = "python_model.pkl"
LOADER_MODULE = "gitrun.pyfunc"


def _serializer(python_model: Any, artifacts: dict[str, str] | None) -> Any:
    if isinstance(python_model, (str, os.PathLike)):
        return _code_serializer(Path(python_model), artifacts)

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


def _code_serializer(source: Path, artifacts: dict[str, str] | None) -> Any:
    """Models from code: the file itself is the model (no pickle)."""
    if not source.is_file():
        raise InvalidParameterValue(f"python_model {source} is not a file (models from code need a .py file)")

    def write(folder: Path) -> Serialized:
        shutil.copyfile(source, folder / CODE_FILE)
        copied = {name: _copy_artifact(folder, name, src) for name, src in (artifacts or {}).items()}
        conf = {"artifacts": copied, "digest": file_digest(folder / CODE_FILE), "model_code_path": CODE_FILE}
        return Serialized(PYFUNC, conf, CODE_FILE, LOADER_MODULE, frozenset())

    return write


def _copy_artifact(folder: Path, name: str, source: str) -> dict[str, str]:
    if "/" in name or name in ("", ".", ".."):
        raise InvalidParameterValue(f"invalid artifact name {name!r}")
    target = folder / "artifacts" / name
    target.mkdir(parents=True)
    if str(source).startswith("runs:/"):
        from gitrun.tracking.artifacts.uri import parse_runs_uri
        from gitrun.tracking.client import Client

        run_id, path = parse_runs_uri(str(source))
        local = Path(Client().download_artifacts(run_id, path or "", str(target)))
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


def _options(
    python_model: Any,
    signature: ModelSignature | Literal[False] | None,
    input_example: Any,
    pip_requirements: Sequence[str] | str | None,
    extra_pip_requirements: Sequence[str] | str | None,
    metadata: dict[str, Any] | None,
    code_paths: Sequence[str] | None,
    infer_code_paths: bool,
) -> SaveOptions:
    if python_model is None:
        raise InvalidParameterValue(
            "gitrun.pyfunc needs python_model= (a PythonModel, or the path of a models-from-code file)"
        )
    predict = None
    if not isinstance(python_model, (str, os.PathLike)):
        predict = PythonModelRunner(python_model, PythonModelContext()).predict
    return SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        predict,
        code_paths=code_paths,
        infer_code_paths=infer_code_paths,
        model_object=python_model,
    )


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel | str | os.PathLike[str] | None = None,
    artifacts: dict[str, str] | None = None,
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
    infer_code_paths: bool = False,
) -> None:
    """Save a :class:`PythonModel` (or a models-from-code file) with its artifacts into ``path``."""
    options = _options(
        python_model,
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        code_paths,
        infer_code_paths,
    )
    save(path, _serializer(python_model, artifacts), options)


def log_model(
    name: str | None = None,
    python_model: PythonModel | str | os.PathLike[str] | None = None,
    artifacts: dict[str, str] | None = None,
    *,
    artifact_path: str | None = None,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
    infer_code_paths: bool = False,
    registered_model_name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    conda_env: Any = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a :class:`PythonModel` (or a models-from-code file path) and its ``artifacts``
    (name -> local path or ``runs:/`` URI) as ``<name>/`` of the run.

    ``code_paths`` are copied into the model; ``infer_code_paths=True`` records the
    user's modules the model needs and restores them from the run's code snapshot
    when it is loaded (see :mod:`gitrun.integrations.models.code`).
    """
    options = _options(
        python_model,
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        code_paths,
        infer_code_paths,
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(python_model, artifacts), options, run_id)


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
        if "model_code_path" in opened.conf:
            source = opened.file("model_code_path")
            verify_file(source, opened.conf.get("digest"))
            model = run_file(source)
            if not hasattr(model, "predict"):
                model = FunctionModel(model)
        else:
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
