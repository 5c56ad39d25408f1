"""MLflow 3 logged models: ids, params, tags, metrics with model_id, search, models:/<id>."""

from __future__ import annotations

import numpy as np
import pytest

import gitrun
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist

pytest.importorskip("sklearn")
from sklearn.linear_model import LinearRegression

pytestmark = pytest.mark.usefixtures("in_repo")


def fitted(scale: float) -> tuple[LinearRegression, np.ndarray]:
    X = np.arange(12, dtype=float).reshape(6, 2)
    return LinearRegression().fit(X, X @ [scale, 1.0]), X


def test_logged_models_are_entities_linked_to_runs_and_metrics() -> None:
    model, X = fitted(1.0)
    with gitrun.start_run() as run:
        info = gitrun.sklearn.log_model(
            model, name="reg", params={"alpha": 0.5}, tags={"stage": "cand"}, step=3
        )
        gitrun.log_metric("rmse", 0.7, step=3, model_id=info.model_id)
        gitrun.log_metrics({"mae": 0.5, "rmse": 0.6}, step=4, model_id=info.model_id)
    assert info.model_id.startswith("m-") and len(info.model_id) == 34
    model_entity = gitrun.get_logged_model(info.model_id)
    assert model_entity.name == "reg" and model_entity.source_run_id == run.info.run_id
    assert model_entity.params == {"alpha": "0.5"} and model_entity.tags == {"stage": "cand"}
    assert model_entity.step == 3 and model_entity.status == "READY"
    assert {m.key: (m.value, m.step) for m in model_entity.metrics} == {"rmse": (0.6, 4), "mae": (0.5, 4)}
    assert model_entity.model_uri == f"models:/{info.model_id}"
    assert model_entity.artifact_location == f"runs:/{run.info.run_id}/reg"
    assert gitrun.last_logged_model().model_id == info.model_id
    outputs = gitrun.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(info.model_id, 3)]
    assert gitrun.get_run(run.info.run_id).data.metrics["rmse"] == 0.6  # also logged to the run
    loaded = gitrun.sklearn.load_model(model_entity.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_search_and_tag_logged_models() -> None:
    ids = []
    for scale in (1.0, 2.0, 3.0):
        with gitrun.start_run():
            info = gitrun.sklearn.log_model(fitted(scale)[0], name=f"m{int(scale)}", params={"scale": scale})
            gitrun.log_metric("score", scale, model_id=info.model_id)
            ids.append(info.model_id)
    found = gitrun.search_logged_models(filter_string="metrics.score >= 2", output_format="list")
    assert {m.model_id for m in found} == set(ids[1:])
    ordered = gitrun.search_logged_models(
        order_by=[{"field_name": "metrics.score", "ascending": True}], output_format="list"
    )
    assert [m.model_id for m in ordered] == ids
    by_param = gitrun.search_logged_models(
        filter_string="params.scale = '1.0' and name = 'm1'", output_format="list"
    )
    assert [m.model_id for m in by_param] == ids[:1]
    frame = gitrun.search_logged_models()
    assert sorted(frame["model_id"]) == sorted(ids)
    gitrun.set_logged_model_tags(ids[0], {"reviewed": "yes"})
    assert gitrun.get_logged_model(ids[0]).tags == {"reviewed": "yes"}
    gitrun.delete_logged_model_tag(ids[0], "reviewed")
    assert gitrun.get_logged_model(ids[0]).tags == {}
    with pytest.raises(ResourceDoesNotExist):
        gitrun.get_logged_model("m-" + "0" * 32)
    with pytest.raises(InvalidParameterValue, match="m-<32 hex>"):
        gitrun.get_logged_model("not-an-id")


def test_a_model_logged_by_another_process_is_found_through_the_index(in_repo: object) -> None:
    import subprocess
    import sys

    code = (
        "import gitrun, numpy as np\n"
        "from sklearn.linear_model import LinearRegression\n"
        "X = np.arange(6.0).reshape(3, 2)\n"
        "print(gitrun.sklearn.log_model(LinearRegression().fit(X, X[:, 0]), 'm').model_id)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    model_id = done.stdout.strip().splitlines()[-1]
    assert gitrun.get_logged_model(model_id).name == "m"
