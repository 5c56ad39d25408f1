"""gitrun.pyfunc (custom PythonModels, any flavor through predict) and gitrun.models (signatures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gitrun
from gitrun.errors import CorruptObject, InvalidParameterValue
from gitrun.models import ModelSignature, infer_signature
from gitrun.pyfunc import PythonModel, PythonModelContext

pytestmark = pytest.mark.usefixtures("in_repo")


class AddN(PythonModel):
    """MLflow 2 style: predict(context, model_input)."""

    def load_context(self, context: PythonModelContext) -> None:
        self.n = int(Path(context.artifacts["n"]).read_text())
        self.words = sorted(p.name for p in Path(context.artifacts["vocab"]).iterdir())

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        return np.asarray(model_input) + self.n


class Doubler(PythonModel):
    """MLflow 3 style: predict(model_input) without a context."""

    def predict(self, model_input: Any) -> Any:  # type: ignore[override]
        return np.asarray(model_input) * 2


def test_python_model_with_artifacts(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("5")
    vocab = tmp_path / "vocab"
    vocab.mkdir()
    for word in ("a", "b"):
        (vocab / word).write_text(word)
    with gitrun.start_run():
        info = gitrun.pyfunc.log_model(
            "adder", python_model=AddN(), artifacts={"n": str(tmp_path / "n.txt"), "vocab": str(vocab)}
        )
    model = gitrun.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(model.predict([1, 2]), [6, 7])
    unwrapped = model.unwrap_python_model()
    assert isinstance(unwrapped, AddN) and unwrapped.words == ["a", "b"]
    assert model.metadata.flavors["python_function"]["artifacts"]["n"]["path"] == "artifacts/n/n.txt"


def test_python_model_without_context_and_tampering(tmp_path: Path) -> None:
    target = tmp_path / "doubler"
    gitrun.pyfunc.save_model(target, python_model=Doubler(), input_example=np.array([[1.0, 2.0]]))
    model = gitrun.pyfunc.load_model(target)
    np.testing.assert_array_equal(model.predict(np.array([[1.0, 2.0]])), [[2.0, 4.0]])
    assert model.signature is not None
    (target / "python_model.pkl").write_bytes(b"not the pickle that was saved")
    with pytest.raises(CorruptObject):
        gitrun.pyfunc.load_model(target)


def test_pyfunc_loads_any_flavor_and_refuses_foreign_loaders(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    X = np.arange(12, dtype=float).reshape(6, 2)
    model = LinearRegression().fit(X, X.sum(axis=1))
    with gitrun.start_run():
        info = gitrun.sklearn.log_model(model, "model")
    loaded = gitrun.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    assert isinstance(loaded.get_raw_model(), LinearRegression)
    with pytest.raises(InvalidParameterValue):
        loaded.unwrap_python_model()
    target = tmp_path / "foreign"
    gitrun.sklearn.save_model(model, target)
    descriptor = target / "MLmodel"
    descriptor.write_text(
        descriptor.read_text().replace("loader_module: gitrun.sklearn", "loader_module: os")
    )
    with pytest.raises(InvalidParameterValue, match="gitrun loads only its own flavors"):
        gitrun.pyfunc.load_model(target)
    with pytest.raises(gitrun.GitrunError, match="not a saved model"):
        gitrun.pyfunc.load_model(tmp_path)


def test_infer_signature_formats() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, 2.0], "b": np.array([1, 2], dtype=np.int64), "c": ["x", "y"], "d": [True, False]}
    )
    signature = infer_signature(frame, np.array([0.5, 0.7]), params={"k": 3})
    stored = signature.to_dict()
    assert json.loads(stored["inputs"]) == [  # type: ignore[arg-type]
        {"type": "double", "name": "a", "required": True},
        {"type": "long", "name": "b", "required": True},
        {"type": "string", "name": "c", "required": True},
        {"type": "boolean", "name": "d", "required": True},
    ]
    assert json.loads(stored["outputs"]) == [  # type: ignore[arg-type]
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}
    ]
    assert json.loads(stored["params"]) == [  # type: ignore[arg-type]
        {"name": "k", "default": 3, "shape": None, "type": "long"}
    ]
    assert ModelSignature.from_dict(stored) == signature
    tensor = infer_signature(np.zeros((3, 28, 28), dtype=np.float32)).to_dict()
    assert json.loads(tensor["inputs"]) == [  # type: ignore[arg-type]
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}}
    ]


def test_dataframe_input_example_round_trips(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    from gitrun.integrations.models.descriptor import ModelDescriptor
    from gitrun.integrations.models.examples import load_example

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    target = tmp_path / "lr"
    gitrun.sklearn.save_model(LinearRegression().fit(frame, [1.0, 2.0, 3.0]), target, input_example=frame)
    descriptor = ModelDescriptor.load(target)
    assert descriptor.saved_input_example_info == {"artifact_path": "input_example.json", "type": "dataframe"}
    assert descriptor.signature is not None and descriptor.signature.inputs is not None
    assert descriptor.signature.inputs.input_names() == ["a", "b"]
    pd.testing.assert_frame_equal(load_example(target, descriptor.saved_input_example_info), frame)
