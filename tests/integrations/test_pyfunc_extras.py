"""pyfunc extras: code_paths, infer_code_paths, models from code, requirements files,
signatures enforced at predict time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gitrun
from gitrun.errors import InvalidParameterValue
from gitrun.models import infer_signature

pytestmark = pytest.mark.usefixtures("in_repo")

MODULE = """
from gitrun.pyfunc import PythonModel


class Scale(PythonModel):
    def __init__(self, k):
        self.k = k

    def predict(self, model_input, params=None):
        return model_input * self.k
"""


def _load_in_fresh_process(uri: str, cwd: Path) -> str:
    """Load and predict in a new interpreter where the user's module is not importable."""
    code = (
        "import sys, numpy as np, gitrun;"
        "sys.path = [p for p in sys.path if p not in ('', '.')];"
        f"print(gitrun.pyfunc.load_model({uri!r}).predict(np.array([1.0, 2.0])).tolist())"
    )
    env = {k: v for k, v in __import__("os").environ.items()}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_code_paths_are_copied_and_importable_at_load(in_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "src"
    package.mkdir()
    (package / "scaling.py").write_text(MODULE)
    sys.path.insert(0, str(package))
    try:
        import scaling

        with gitrun.start_run():
            info = gitrun.pyfunc.log_model(
                "scaled", python_model=scaling.Scale(3), code_paths=[str(package / "scaling.py")]
            )
    finally:
        sys.path.remove(str(package))
        sys.modules.pop("scaling", None)
    assert info.flavors["python_function"]["code"] == "code"
    gitrun.flush()
    assert _load_in_fresh_process(info.model_uri, in_repo) == "[3.0, 6.0]"


def test_infer_code_paths_restores_modules_from_the_runs_snapshot(in_repo: Path) -> None:
    (in_repo / "mymodels.py").write_text(MODULE)  # untracked: in the run's snapshot all the same
    sys.path.insert(0, str(in_repo))
    try:
        import mymodels

        with gitrun.start_run():
            info = gitrun.pyfunc.log_model("scaled", python_model=mymodels.Scale(2), infer_code_paths=True)
    finally:
        sys.path.remove(str(in_repo))
        sys.modules.pop("mymodels", None)
    conf = info.flavors["python_function"]
    assert conf["code_from_run"] == {"run_id": info.run_id, "paths": ["mymodels.py"]}
    files = {f.path for f in gitrun.MlflowClient().list_artifacts(info.run_id, "scaled")}
    assert "scaled/code" not in files  # not copied: the run's code snapshot has it
    (in_repo / "mymodels.py").unlink()  # gone from the work tree, still in git
    gitrun.flush()
    assert _load_in_fresh_process(info.model_uri, in_repo) == "[2.0, 4.0]"


def test_models_from_code(in_repo: Path, tmp_path: Path) -> None:
    source = tmp_path / "model_code.py"
    source.write_text(
        "import gitrun\n"
        "def add_one(model_input):\n"
        "    return model_input + 1\n"
        "gitrun.models.set_model(add_one)\n"
    )
    with gitrun.start_run():
        info = gitrun.pyfunc.log_model("from-code", python_model=str(source), input_example=np.array([1.0]))
    files = {f.path for f in gitrun.MlflowClient().list_artifacts(info.run_id, "from-code")}
    assert "from-code/python_model.py" in files and "from-code/python_model.pkl" not in files
    model = gitrun.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(model.predict(np.array([1.0, 5.0])), [2.0, 6.0])
    silent = tmp_path / "silent.py"
    silent.write_text("x = 1\n")
    with gitrun.start_run():
        bad = gitrun.pyfunc.log_model("silent", python_model=str(silent))
    with pytest.raises(InvalidParameterValue, match="set_model"):
        gitrun.pyfunc.load_model(bad.model_uri)


def test_requirements_from_files_and_lists(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nnumpy==1.0\n\npandas>=2\n")
    gitrun.pyfunc.save_model(tmp_path / "a", python_model=Doubler(), pip_requirements=str(requirements))
    assert (tmp_path / "a" / "requirements.txt").read_text().splitlines() == ["numpy==1.0", "pandas>=2"]
    gitrun.pyfunc.save_model(tmp_path / "b", python_model=Doubler(), extra_pip_requirements=["extra-lib==2"])
    assert "extra-lib==2" in (tmp_path / "b" / "requirements.txt").read_text().splitlines()


class Doubler(gitrun.pyfunc.PythonModel):
    def predict(self, model_input, params=None):  # type: ignore[no-untyped-def, override]
        if isinstance(model_input, pd.DataFrame):
            return model_input.sum(axis=1) * (params or {}).get("factor", 2)
        return np.asarray(model_input) * 2


def test_column_signatures_are_enforced(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    signature = infer_signature(frame, params={"factor": 2})
    gitrun.pyfunc.save_model(tmp_path / "m", python_model=Doubler(), signature=signature)
    model = gitrun.pyfunc.load_model(tmp_path / "m")
    assert model.predict(frame).tolist() == [8.0, 12.0]
    assert model.predict(frame.assign(extra="x")).tolist() == [8.0, 12.0]  # extra columns dropped
    assert model.predict(frame, params={"factor": 1}).tolist() == [4.0, 6.0]
    assert model.predict({"a": 1.0, "b": 2}).tolist() == [6.0]  # a dict is one row
    widened = frame.astype({"a": "float32", "b": "int32"})
    assert model.predict(widened).tolist() == [8.0, 12.0]  # safe conversions
    with pytest.raises(InvalidParameterValue, match=r"missing column\(s\) \['b'\]"):
        model.predict(frame[["a"]])
    with pytest.raises(InvalidParameterValue, match="'b' has type float64"):
        model.predict(frame.astype({"b": "float64"}))
    with pytest.raises(InvalidParameterValue, match="unknown params"):
        model.predict(frame, params={"nope": 1})


def test_tensor_signatures_are_enforced(tmp_path: Path) -> None:
    gitrun.pyfunc.save_model(tmp_path / "t", python_model=Doubler(), input_example=np.zeros((2, 3)))
    model = gitrun.pyfunc.load_model(tmp_path / "t")
    assert model.predict(np.ones((4, 3))).shape == (4, 3)
    assert model.predict(np.ones((1, 3), dtype=np.int32)).dtype == np.float64  # widened safely
    with pytest.raises(InvalidParameterValue, match=r"shape \[-1, 3\]"):
        model.predict(np.ones((4, 2)))
    with pytest.raises(InvalidParameterValue, match="float64 values, got <U1"):
        model.predict(np.array([["a", "b", "c"]]))
