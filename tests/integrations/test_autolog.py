"""gitrun.autolog(): which integrations it enables, and that it imports no ML library itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import gitrun
from gitrun.integrations.autolog import imports, patching
from gitrun.integrations.autolog.universal import autolog as enable_all

pytestmark = pytest.mark.usefixtures("in_repo")


def run_script(repo: Path, code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_autolog_imports_no_ml_library_and_patches_on_import(in_repo: Path) -> None:
    out = run_script(
        in_repo,
        """
        import sys
        import gitrun
        gitrun.autolog()
        heavy = [m for m in ("sklearn", "torch", "keras", "transformers", "lightning") if m in sys.modules]
        print("imported:", heavy)
        from sklearn.linear_model import LogisticRegression
        LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        run = gitrun.last_active_run()
        tags, params = run.data.tags, run.data.params
        print("logged:", tags["mlflow.autologging"], params["C"], sorted(run.data.metrics)[0])
        """,
    )
    assert "imported: []" in out
    assert "logged: sklearn 1.0 training_accuracy_score" in out


def test_facades_import_no_ml_library(in_repo: Path) -> None:
    out = run_script(
        in_repo,
        """
        import sys
        import gitrun
        for name in ("sklearn", "pytorch", "keras", "tensorflow", "transformers", "pyfunc", "models"):
            getattr(gitrun, name).__name__
        print([m for m in ("sklearn", "torch", "keras", "tensorflow", "transformers") if m in sys.modules])
        """,
    )
    assert out.strip() == "[]"


def test_autolog_enables_every_installed_integration() -> None:
    enabled = enable_all()
    assert "sklearn" in enabled
    for flavor in enabled:
        assert patching.active(flavor) is not None
    gitrun.autolog(disable=True)
    assert all(patching.active(flavor) is None for flavor in enabled)


def test_when_imported_runs_now_or_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    imports.when_imported("json", lambda m: seen.append(m.__name__))
    assert seen == ["json"]
    name = "gitrun_test_module_for_hooks"
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "_hooks"))
    imports.when_imported(name, lambda m: seen.append(f"{m.__name__}:{m.VALUE}"))
    assert seen == ["json"]
    module = __import__(name)
    assert seen == ["json", f"{name}:42"]
    assert isinstance(module, types.ModuleType) and module.__loader__ is not None
    assert type(module.__spec__.loader).__name__ != "_Loader"
    sys.modules.pop(name, None)


def test_patch_and_unpatch_restore_inherited_methods() -> None:
    class Base:
        def fit(self) -> str:
            return "base"

    class Child(Base):
        pass

    patching.patch("test", Child, "fit", lambda original: lambda self: "patched " + original(self))
    patching.patch("test", Child, "fit", lambda original: lambda self: "twice " + original(self))  # no-op
    assert Child().fit() == "patched base"
    patching.unpatch("test")
    assert Child().fit() == "base" and "fit" not in Child.__dict__
