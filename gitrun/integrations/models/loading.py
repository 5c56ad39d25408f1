"""What every flavor's ``load_model`` shares: find the folder, read and check the descriptor."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitrun.integrations.models.descriptor import ModelDescriptor, check_python
from gitrun.integrations.models.location import local_model


@dataclass(frozen=True)
class OpenModel:
    """A model folder being loaded, its descriptor and the requested flavor's block."""

    folder: Path
    descriptor: ModelDescriptor
    conf: dict[str, Any]

    def file(self, key: str) -> Path:
        """The file named by ``conf[key]``, which must stay inside the folder."""
        relative = str(self.conf[key])
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            from gitrun.errors import InvalidParameterValue

            raise InvalidParameterValue(f"model descriptor names a file outside the model: {relative!r}")
        return path


@contextmanager
def open_flavor(
    model_uri: str | os.PathLike[str], flavor: str, dst_path: str | None = None
) -> Iterator[OpenModel]:
    """The model at ``model_uri`` as a local folder with flavor ``flavor`` checked."""
    from gitrun.integrations.models.code import importable

    with local_model(model_uri, dst_path) as folder:
        descriptor = ModelDescriptor.load(folder)
        conf = descriptor.flavor(flavor, model_uri)
        check_python(descriptor.python_version)
        check_requirements(descriptor.pip_requirements, skip=_CHECKED_BY_FLAVOR.get(flavor, ""))
        with importable(folder, conf):
            yield OpenModel(folder, descriptor, conf)


# The flavor's own library is checked (imported, version compared) by its loader.
_CHECKED_BY_FLAVOR = {
    "sklearn": "scikit-learn",
    "pytorch": "torch",
    "keras": "keras",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "statsmodels": "statsmodels",
    "pmdarima": "pmdarima",
    "catboost": "catboost",
    "prophet": "prophet",
    "spacy": "spacy",
    "transformers": "transformers",
}


def check_requirements(requirements: list[str], skip: str = "") -> None:
    """Warn once about pinned requirements installed at another version, or not at all.

    A model pickled with xgboost 2 may not load, or predict differently, with xgboost 3:
    the warning says which libraries to pin to reproduce the saved model exactly.
    """
    from importlib import metadata

    differ, missing = [], []
    for requirement in requirements:
        name, sep, wanted = requirement.partition("==")
        if not sep or name.lower() in ("gitrun", skip.lower()):
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(requirement)
            continue
        if installed != wanted:
            differ.append(f"{name} {wanted} (installed: {installed})")
    if differ or missing:
        parts = [f"saved with {', '.join(differ)}"] if differ else []
        parts += [f"needs {', '.join(missing)}, not installed"] if missing else []
        warnings.warn(f"this model was {'; '.join(parts)}", UserWarning, stacklevel=4)


def warn_ignored(name: str, value: Any) -> None:
    """MLflow arguments gitrun accepts but has no use for (a model registry, conda)."""
    if value is not None:
        warnings.warn(
            f"gitrun ignores {name}={value!r} (no model registry or conda environments)", stacklevel=3
        )
