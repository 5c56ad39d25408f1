"""An opt-in, in-process ``mlflow`` module so that HF's ``report_to="mlflow"`` logs to gitrun.

Hugging Face's MLflowCallback imports the module literally named ``mlflow``.
gitrun never installs such a package (it would shadow a real MLflow in every
process of the environment).  :func:`register_mlflow_alias` instead puts an alias
in ``sys.modules`` of the current process only: ``mlflow`` forwards every
attribute to ``gitrun``, plus ``mlflow.utils.validation`` (the limits HF reads).
It refuses when a real MLflow is installed, unless ``force=True``.  The
recommended path stays ``report_to="none"`` + :class:`GitrunCallback` (or
``gitrun.autolog()``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

from gitrun.errors import GitrunError

_NAMES = ("mlflow", "mlflow.utils", "mlflow.utils.validation")


class _Alias(types.ModuleType):
    __version__: str

    def __getattr__(self, name: str) -> Any:
        import gitrun

        return getattr(gitrun, name)


def register_mlflow_alias(force: bool = False) -> None:
    """Make ``import mlflow`` give gitrun in this process (for ``report_to="mlflow"``)."""
    if is_registered():
        return
    if not force and importlib.util.find_spec("mlflow") is not None:
        raise GitrunError(
            "a real MLflow is installed: report_to='mlflow' would log to it. Use report_to='none' with "
            "gitrun.transformers.GitrunCallback, or register_mlflow_alias(force=True) to shadow it here"
        )
    from gitrun import __version__
    from gitrun.tracking import validation

    alias = _Alias("mlflow", "gitrun, under the name mlflow (gitrun.transformers.register_mlflow_alias)")
    alias.__spec__ = importlib.machinery.ModuleSpec("mlflow", None)
    alias.__version__ = __version__
    alias._gitrun_alias = True  # type: ignore[attr-defined]
    utils = types.ModuleType("mlflow.utils")
    utils.__spec__ = importlib.machinery.ModuleSpec("mlflow.utils", None)
    utils.validation = validation  # type: ignore[attr-defined]
    alias.utils = utils  # type: ignore[attr-defined]
    sys.modules.update({"mlflow": alias, "mlflow.utils": utils, "mlflow.utils.validation": validation})


def unregister_mlflow_alias() -> None:
    """Remove the alias (a real MLflow becomes importable again)."""
    if is_registered():
        for name in _NAMES:
            sys.modules.pop(name, None)


def is_registered() -> bool:
    return getattr(sys.modules.get("mlflow"), "_gitrun_alias", False) is True
