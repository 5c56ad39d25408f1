"""The Keras 3 flavor and autologging, on the torch backend (set in conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import CorruptObject, InvalidParameterValue
from tests.integrations.conftest import runs_of

keras = pytest.importorskip("keras")

pytestmark = [
    pytest.mark.usefixtures("in_repo"),
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),  # keras' own
]


def data(n: int = 96) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.random((n, 4)).astype("float32")
    y = keras.utils.to_categorical((X.sum(axis=1) > 2).astype("int32") + (X[:, 0] > 0.8), 3)
    return X, y


def create_keras_model() -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def test_backend_is_torch() -> None:
    assert keras.backend.backend() == "torch"


def test_log_and_load_round_trip(tmp_path: Path) -> None:
    X, y = data()
    model = create_keras_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(X, y, epochs=1, verbose=0)
    with gitrun.start_run():
        info = gitrun.keras.log_model(model, "model", input_example=X[:2])
    assert info.flavors["keras"]["keras_backend"] == "torch"
    assert info.signature is not None and info.signature.outputs is not None
    loaded = gitrun.keras.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    np.testing.assert_array_equal(
        gitrun.pyfunc.load_model(info.model_uri).predict(X), model.predict(X, verbose=0)
    )
    with gitrun.start_run():
        tf_style = gitrun.tensorflow.log_model(model, "model")  # the tutorial's tf.keras spelling
    reloaded = gitrun.tensorflow.load_model(tf_style.model_uri)
    np.testing.assert_array_equal(reloaded.predict(X, verbose=0), model.predict(X, verbose=0))
    target = tmp_path / "saved"
    gitrun.keras.save_model(model, target)
    np.testing.assert_array_equal(
        gitrun.keras.load_model(target).predict(X, verbose=0), model.predict(X, verbose=0)
    )
    with open(target / "data" / "model.keras", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(CorruptObject):
        gitrun.keras.load_model(target)


def test_tutorial_tensorflow_autolog() -> None:
    X_train, y_train = data()
    X_val, y_val = data(32)
    gitrun.tensorflow.autolog()
    with gitrun.start_run() as run:
        model = create_keras_model()
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(
            X_train, y_train, validation_data=(X_val, y_val), epochs=3, batch_size=32, verbose=0
        )
    logged = gitrun.get_run(run.info.run_id)
    params = logged.data.params
    assert params["epochs"] == "3"
    assert params["batch_size"] == "32"
    assert params["shuffle"] == "True"
    assert params["optimizer_name"] == "Adam"
    assert float(params["optimizer_learning_rate"]) == pytest.approx(0.001)
    assert not {"x", "y", "callbacks", "validation_data", "verbose"} & set(params)
    assert set(logged.data.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    client = MlflowClient()
    for key, values in history.history.items():
        points = client.get_metric_history(run.info.run_id, key)
        assert [p.step for p in points] == [0, 1, 2]
        assert [p.value for p in points] == pytest.approx(values)
    loaded = gitrun.keras.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_val, verbose=0), model.predict(X_val, verbose=0))
    assert len(runs_of()) == 1


def test_autolog_manages_a_run_and_logs_early_stopping() -> None:
    X, y = data()
    gitrun.keras.autolog(log_models=False)
    model = create_keras_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="categorical_crossentropy")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    model.fit(X, y, epochs=10, callbacks=[stop], verbose=0)
    run = gitrun.last_active_run()
    assert run is not None and gitrun.active_run() is None
    assert run.data.tags["mlflow.autologging"] == "keras"
    assert run.data.params["patience"] == "1"
    assert run.data.params["monitor"] == "loss"
    assert run.data.metrics["stopped_epoch"] > 0
    assert "restored_epoch" in run.data.metrics
    assert MlflowClient().list_artifacts(run.info.run_id) == []


def test_callback_by_hand_in_a_nested_run() -> None:
    X, y = data()
    model = create_keras_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with gitrun.start_run(), gitrun.start_run(nested=True) as child:
        model.fit(X, y, epochs=2, verbose=0, callbacks=[gitrun.keras.MlflowCallback()])
    logged = gitrun.get_run(child.info.run_id)
    assert logged.data.params["optimizer_name"] == "Adam"
    assert [m.step for m in MlflowClient().get_metric_history(child.info.run_id, "loss")] == [0, 1]


def test_a_logging_failure_does_not_break_fit() -> None:
    X, y = data()
    gitrun.keras.autolog()
    model = create_keras_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    run = gitrun.start_run()
    MlflowClient().delete_run(run.info.run_id)
    with pytest.warns(UserWarning, match="keras autologging failed"):
        history = model.fit(X, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(InvalidParameterValue):
        gitrun.end_run()


def test_tensorflow_log_model_refuses_non_keras_objects() -> None:
    with pytest.raises(InvalidParameterValue, match="Keras models only"):
        gitrun.tensorflow.log_model(object(), "model")
