"""What every flavor's ``save_model``/``log_model`` shares.

A flavor only serialises its model into a folder and says how (:class:`Serialized`);
this module adds the descriptor, the signature, the input example and the
requirements, and for ``log_model`` saves into a temporary folder and logs it.
"""

from __future__ import annotations

import os
import platform
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitrun.errors import InvalidParameterValue, ResourceAlreadyExists
from gitrun.integrations.models import examples
from gitrun.integrations.models.descriptor import PYFUNC, REQUIREMENTS_FILE, ModelDescriptor
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.requirements import requirements_for
from gitrun.integrations.models.signature import ModelSignature, infer_schema

DEFAULT_NAME = "model"


@dataclass(frozen=True)
class Serialized:
    """How a flavor wrote its model into the folder."""

    flavor: str
    conf: dict[str, Any]
    """The flavor's block in the descriptor (format, file names, digests, versions)."""
    model_file: str
    """The serialised model, relative to the folder (the pyfunc block's ``model_path``)."""
    loader_module: str
    """The gitrun module whose ``_load_pyfunc(path)`` gives a ``predict()``-able model."""
    modules: frozenset[str]
    """Import names of the libraries needed to load it (become pinned requirements)."""


@dataclass(frozen=True)
class SaveOptions:
    """The arguments common to every flavor's ``save_model`` and ``log_model``."""

    signature: ModelSignature | Literal[False] | None = None
    input_example: Any = None
    pip_requirements: Sequence[str] | str | None = None
    extra_pip_requirements: Sequence[str] | str | None = None
    metadata: dict[str, Any] | None = None
    predict: Callable[[Any], Any] | None = field(default=None, compare=False)
    """How to run the model on the input example, to infer the signature's outputs."""
    code_paths: Sequence[str] | None = None
    """Local files or folders the model's code needs, copied under ``code/``."""
    infer_code_paths: bool = False
    """Record which of the run's code files the model imports (see :mod:`.code`)."""
    model_object: Any = field(default=None, compare=False)
    """The model itself, whose classes tell which of the user's modules it needs."""


@dataclass(frozen=True)
class LogOptions:
    """The arguments of ``log_model`` beyond saving: where and how the model is recorded."""

    name: str = "model"
    registered_model_name: str | None = None
    params: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None
    model_type: str | None = None
    step: int = 0

    @classmethod
    def of(
        cls,
        name: str | None,
        artifact_path: str | None,
        registered_model_name: str | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        model_type: str | None = None,
        step: int | None = 0,
        conda_env: Any = None,
    ) -> LogOptions:
        """Options from a flavor's ``log_model`` arguments (``artifact_path`` is the deprecated name)."""
        if conda_env is not None:
            warnings.warn(f"gitrun ignores conda_env={conda_env!r} (no conda environments)", stacklevel=3)
        return cls(
            model_name(name, artifact_path), registered_model_name, params, tags, model_type, int(step or 0)
        )


def model_name(name: str | None, artifact_path: str | None) -> str:
    """The name under which to log: ``name``, else the deprecated ``artifact_path``."""
    if name is not None and artifact_path is not None:
        raise InvalidParameterValue(
            "`artifact_path` and `name` parameters are both provided. `artifact_path` is deprecated, "
            "please use only `name`."
        )
    if artifact_path is not None:
        warnings.warn(
            "`artifact_path` is deprecated. Please use `name` instead.", FutureWarning, stacklevel=3
        )
        return artifact_path
    return name if name is not None else DEFAULT_NAME


def _requirements(value: Sequence[str] | str | None) -> list[str] | None:
    """A list of requirements, or a requirements file's lines (MLflow accepts both)."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        lines = Path(value).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return list(value)


def save(
    path: str | os.PathLike[str],
    serialize: Callable[[Path], Serialized],
    options: SaveOptions,
    run_id: str | None = None,
) -> ModelDescriptor:
    """Write a complete model folder at ``path`` (which must not exist or be empty).

    ``run_id``: the run the model is logged into (``infer_code_paths`` then records
    the run's code files instead of copying them).
    """
    from gitrun import __version__
    from gitrun.integrations.models import code

    folder = Path(path)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ResourceAlreadyExists(f"Path '{folder}' already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    saved = serialize(folder)
    from_run = None
    if options.code_paths:
        code.copy_paths(folder, list(options.code_paths))
    if options.infer_code_paths:
        from_run = code.infer(folder, [options.model_object], run_id)
    pyfunc: dict[str, Any] = {
        "env": {"virtualenv": REQUIREMENTS_FILE},
        "loader_module": saved.loader_module,
        "model_path": saved.model_file,
        "predict_fn": "predict",
        "python_version": platform.python_version(),
    }
    code_conf: dict[str, Any] = {}
    if (folder / code.CODE_DIR).is_dir() or from_run:
        code_conf["code"] = code.CODE_DIR
    if from_run:
        code_conf["code_from_run"] = from_run
    pyfunc.update(code_conf)
    if saved.flavor == PYFUNC:  # a python_model: its settings live in the pyfunc block itself
        flavors = {PYFUNC: {**pyfunc, **saved.conf}}
    else:
        flavors = {saved.flavor: {**saved.conf, **code_conf}, PYFUNC: pyfunc}
    example_info = None
    if options.input_example is not None:
        example_info = examples.save_example(folder, options.input_example)
    pinned = _requirements(options.pip_requirements)
    if pinned is not None:
        requirements = sorted(set(pinned))
    else:
        requirements = requirements_for(saved.modules, _requirements(options.extra_pip_requirements) or ())
    descriptor = ModelDescriptor(
        flavors=flavors,
        signature=_signature(options),
        saved_input_example_info=example_info,
        pip_requirements=requirements,
        gitrun_version=__version__,
        metadata=options.metadata,
    )
    descriptor.model_size_bytes = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    descriptor.save(folder)
    return descriptor


def _signature(options: SaveOptions) -> ModelSignature | None:
    if options.signature is False:
        return None
    if options.signature is not None:
        return options.signature
    example = options.input_example
    if example is None:
        return None
    outputs = None
    if options.predict is not None:
        try:
            outputs = infer_schema(options.predict(example))
        except Exception:  # noqa: BLE001 - a signature without outputs beats no model
            outputs = None
    return ModelSignature(infer_schema(example), outputs)


def log(
    target: str | LogOptions,
    serialize: Callable[[Path], Serialized],
    options: SaveOptions,
    run_id: str | None = None,
) -> ModelInfo:
    """Save into a temporary folder and log it as ``<name>/`` of the run.

    With no run given or active, one is started, as every ``gitrun.log_*`` does
    (MLflow 3 logs such a model without any run; gitrun keeps models in runs).
    """
    from gitrun.integrations.models.location import log_saved_model
    from gitrun.tracking import fluent

    logged = target if isinstance(target, LogOptions) else LogOptions(target)
    active = fluent.active_run()
    run = run_id or (active.info.run_id if active is not None else fluent.start_run().info.run_id)
    with tempfile.TemporaryDirectory(prefix="gitrun-model-") as tmp:
        folder = Path(tmp, "model")
        descriptor = save(folder, serialize, options, run)
        return log_saved_model(folder, logged, descriptor, run)
