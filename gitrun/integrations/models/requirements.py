"""The pip requirements needed to load a model, from what the flavor knows.

MLflow infers requirements by importing the model in a subprocess and watching
which modules load; that is most of its 2.4 s per ``log_model``.  A flavor knows
which libraries its serialisation needs (scikit-learn, numpy, scipy; torch; ...),
and the model's own classes tell which third-party modules it uses (xgboost,
lightgbm, a user's package), so gitrun pins those at their installed versions:
microseconds, no subprocess.  Users add anything else with ``extra_pip_requirements``
or replace the list with ``pip_requirements``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from importlib import metadata

# Import names whose distribution is named differently (or has several names).
_DISTRIBUTIONS = {
    "sklearn": ("scikit-learn",),
    "xgboost": ("xgboost", "xgboost-cpu"),
    "yaml": ("PyYAML",),
    "PIL": ("pillow",),
    "cv2": ("opencv-python", "opencv-python-headless"),
    "pytorch_lightning": ("pytorch-lightning",),
    "skimage": ("scikit-image",),
    "tf_keras": ("tf-keras",),
}
# Modules that ship with Python or with gitrun itself: never a requirement.
_NOT_DISTRIBUTIONS = frozenset({"builtins", "__main__", "gitrun", "tests"})


@functools.lru_cache(maxsize=256)
def pinned(module: str) -> str | None:
    """``dist==version`` for a top-level import name, or None if not an installed distribution."""
    if module in _NOT_DISTRIBUTIONS or module in sys.stdlib_module_names:
        return None
    for dist in _DISTRIBUTIONS.get(module, (module, module.replace("_", "-"))):
        try:
            return f"{dist}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return None


def gitrun_requirement() -> str:
    from gitrun import __version__

    return f"gitrun=={__version__}"


def requirements_for(modules: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Sorted, de-duplicated requirements: gitrun, each module's distribution, ``extra``."""
    found = {gitrun_requirement()}
    for module in modules:
        req = pinned(module.split(".")[0])
        if req:
            found.add(req)
    found.update(extra)
    return sorted(found, key=str.lower)


def modules_of(objects: Iterable[object]) -> set[str]:
    """Top-level modules of the classes of ``objects`` (a model and its parts)."""
    return {type(obj).__module__.split(".")[0] for obj in objects}
