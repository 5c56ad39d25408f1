"""The model descriptor: the ``MLmodel`` YAML file at the root of a saved model.

It says how to load the model (flavors, serialisation format, the digest of each
serialised file), what it needs (library and Python versions, pip requirements)
and what it takes (signature, input example).  Compared with MLflow's file it
leaves out everything that differs between two logs of the same model (run id,
creation time, model uuid, artifact path): those are recorded in the run
(``models.yaml``), so logging an identical model again produces identical bytes
and the content-addressed store keeps one copy.
"""

from __future__ import annotations

import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitrun.errors import CorruptObject, GitrunError, InvalidParameterValue, ResourceDoesNotExist
from gitrun.integrations.models.signature import ModelSignature

DESCRIPTOR_FILE = "MLmodel"
REQUIREMENTS_FILE = "requirements.txt"
PYFUNC = "python_function"


@dataclass
class ModelDescriptor:
    """The content of an ``MLmodel`` file."""

    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    pip_requirements: list[str] = field(default_factory=list)
    model_size_bytes: int | None = None
    gitrun_version: str = ""
    python_version: str = field(default_factory=platform.python_version)
    metadata: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "flavors": self.flavors,
            "gitrun_version": self.gitrun_version,
            "model_size_bytes": self.model_size_bytes,
            "pip_requirements": self.pip_requirements,
            "python_version": self.python_version,
        }
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata:
            out["metadata"] = self.metadata
        return out

    def save(self, directory: Path) -> None:
        import yaml  # imported here: autolog() must stay cheap for scripts that never save

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the C emitter: ~10x faster
        text = yaml.dump(self.to_dict(), Dumper=dumper, sort_keys=True, default_flow_style=False)
        (directory / DESCRIPTOR_FILE).write_text(text, encoding="utf-8")
        (directory / REQUIREMENTS_FILE).write_text("".join(f"{r}\n" for r in self.pip_requirements))

    @classmethod
    def load(cls, directory: Path) -> ModelDescriptor:
        """Read ``directory/MLmodel``.

        Raises:
            ResourceDoesNotExist: there is no descriptor (not a saved model).
            InvalidParameterValue: the descriptor is not a mapping with flavors.
        """
        path = directory / DESCRIPTOR_FILE
        if not path.is_file():
            raise ResourceDoesNotExist(
                f"{directory} is not a saved model: it has no {DESCRIPTOR_FILE} file "
                "(log one with gitrun.<flavor>.log_model)"
            )
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
            raise InvalidParameterValue(f"{path} is not a model descriptor (no 'flavors' mapping)")
        signature = data.get("signature")
        return cls(
            flavors=data["flavors"],
            signature=ModelSignature.from_dict(signature) if isinstance(signature, dict) else None,
            saved_input_example_info=data.get("saved_input_example_info"),
            pip_requirements=list(data.get("pip_requirements") or []),
            model_size_bytes=data.get("model_size_bytes"),
            gitrun_version=str(data.get("gitrun_version") or data.get("mlflow_version") or ""),
            python_version=str(data.get("python_version") or ""),
            metadata=data.get("metadata"),
        )

    def flavor(self, name: str, where: object) -> dict[str, Any]:
        """The configuration of flavor ``name``, or a clear error naming the ones present."""
        conf = self.flavors.get(name)
        if conf is None:
            present = ", ".join(sorted(self.flavors)) or "none"
            raise InvalidParameterValue(
                f"the model at {where} has no '{name}' flavor (it has: {present}); load it with the "
                "matching gitrun.<flavor>.load_model, or with gitrun.pyfunc.load_model"
            )
        return conf


def check_library(import_name: str, distribution: str, saved_version: str | None) -> Any:
    """Import the library a model needs; warn when its version differs from the saved one.

    Raises:
        GitrunError: the library is not installed.
    """
    import importlib

    try:
        module = importlib.import_module(import_name)
    except ImportError as error:
        wanted = f"{distribution}=={saved_version}" if saved_version else distribution
        raise GitrunError(
            f"this model needs {distribution} to load: pip install '{wanted}' ({error})"
        ) from None
    installed = getattr(module, "__version__", None)
    if saved_version and installed and str(installed) != str(saved_version):
        warnings.warn(
            f"this model was saved with {distribution} {saved_version} and is being loaded with "
            f"{installed}; it may load wrongly or fail. Install {distribution}=={saved_version} "
            "to load it exactly.",
            UserWarning,
            stacklevel=3,
        )
    return module


def check_python(saved: str) -> None:
    """Warn when the model was saved by another Python minor version (pickles may differ)."""
    here = platform.python_version_tuple()[:2]
    if saved and tuple(saved.split(".")[:2]) != here:
        warnings.warn(
            f"this model was saved with Python {saved}, this is Python {platform.python_version()}",
            UserWarning,
            stacklevel=3,
        )


def file_digest(path: Path) -> str:
    from gitrun.tracking.artifacts.objects import file_digest as digest

    return digest(path)


def verify_file(path: Path, expected: str | None) -> None:
    """Re-hash ``path`` against the digest recorded in the descriptor.

    Done before unpickling anything, so that a file changed after it was saved
    (a local copy edited, a store tampered with) is refused instead of executed.

    Raises:
        CorruptObject: the file's digest differs, or no digest was recorded.
    """
    if not expected:
        raise CorruptObject(
            f"{path}: the descriptor records no digest for this file, so it cannot be verified before "
            "it is unpickled; re-save the model with gitrun"
        )
    actual = file_digest(path)
    if actual != expected:
        raise CorruptObject(
            f"{path} does not match the digest in its descriptor ({actual} != {expected}); "
            "refusing to unpickle it"
        )
