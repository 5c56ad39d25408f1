"""The code a model needs besides its libraries: ``code_paths`` and ``infer_code_paths``.

``code_paths=[...]``: the files and folders are copied under ``code/`` in the
model's folder (as in MLflow) and ``code/`` is put first on ``sys.path`` while
the model loads, so its pickles find the user's modules anywhere.

``infer_code_paths=True``: the model's own classes tell which of the user's
modules it needs (those whose file lies in the repository's work tree).  When the
model is logged into a run that has a code snapshot, nothing is copied: the
descriptor records the module files' paths and the run, and loading writes them
from the run's snapshot in git (pushed and fetched with the run) into ``code/``.
Without a run (``save_model``), or outside a repository, they are copied as for
``code_paths``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gitrun.errors import InvalidParameterValue

CODE_DIR = "code"


def copy_paths(folder: Path, paths: Sequence[str]) -> list[str]:
    """Copy each file or folder under ``folder/code``; the names written there."""
    written = []
    target = folder / CODE_DIR
    for item in paths:
        source = Path(item)
        if not source.exists():
            raise InvalidParameterValue(f"code path {item} does not exist")
        destination = target / source.resolve().name
        target.mkdir(exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, destination)
        written.append(destination.name)
    return sorted(written)


def module_files(objects: Iterable[Any], work_tree: str | None) -> list[str]:
    """Work-tree-relative files of the modules defining ``objects``' classes (the user's code)."""
    if work_tree is None:
        return []
    root = os.path.abspath(work_tree)
    found = set()
    for obj in objects:
        names = {type(obj).__module__, getattr(obj, "__module__", None) if isinstance(obj, type) else None}
        for name in names - {None}:
            module = sys.modules.get(str(name))
            path = getattr(module, "__file__", None)
            if not path:
                continue
            full = os.path.abspath(path)
            if full.startswith(root + os.sep) and "site-packages" not in full:
                found.add(os.path.relpath(full, root).replace(os.sep, "/"))
    return sorted(found)


def infer(folder: Path, objects: Iterable[Any], run_id: str | None) -> dict[str, Any] | None:
    """Record (with a run) or copy (without) the user's modules the model needs."""
    from gitrun.tracking.client import Client

    client = Client()
    work_tree = client.code_work_tree()
    files = module_files(objects, work_tree)
    if not files or work_tree is None:
        return None
    if run_id is not None and client.get_run(run_id).record.get("code"):
        return {"run_id": run_id, "paths": files}
    copy_paths(folder, [os.path.join(work_tree, f) for f in files])
    return None


@contextmanager
def importable(folder: Path, conf: dict[str, Any]) -> Iterator[None]:
    """While loading: the model's ``code/`` (restored from its run if needed) first on ``sys.path``."""
    code = folder / CODE_DIR
    from_run = conf.get("code_from_run")
    if isinstance(from_run, dict) and from_run.get("paths"):
        from gitrun.tracking.client import Client

        Client().restore_run_code(str(from_run["run_id"]), list(from_run["paths"]), str(code))
    if not code.is_dir():
        yield
        return
    entry = str(code)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)
