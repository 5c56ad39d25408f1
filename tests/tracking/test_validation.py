"""Every invalid input is refused with a specific message, and nothing logged is lost."""

from __future__ import annotations

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.entities import Metric, Param, RunTag
from gitrun.errors import InvalidParameterValue

pytestmark = pytest.mark.usefixtures("in_repo")

BAD_KEYS = [
    ("", "would resolve to '.'"),
    (".", "would resolve to '.'"),
    ("a/", "would resolve to 'a'"),
    ("/a", "would resolve to '/a'"),
    ("a//b", "would resolve to 'a/b'"),
    ("a/./b", "would resolve to 'a/b'"),
    ("../a", "would resolve to '../a'"),
    ("a!b", "Names may only contain"),
    ("tab\tkey", "Names may only contain"),
    ("x" * 251, "exceeds the maximum length of 250"),
    (None, "Missing value for required parameter"),
]
GOOD_KEYS = ["ünï", "a/b", "with space", "colon:ok", "dash-dot.under_score", "x" * 250, ".hidden"]


@pytest.fixture
def run_with_data() -> str:
    with gitrun.start_run() as run:
        gitrun.log_param("kept_param", "1")
        gitrun.log_metric("kept_metric", 2.0, step=3)
        gitrun.set_tag("kept_tag", "t")
    return run.info.run_id


def _assert_intact(run_id: str) -> None:
    stored = MlflowClient().get_run(run_id)
    assert stored.data.params["kept_param"] == "1"
    assert stored.data.metrics["kept_metric"] == 2.0
    assert stored.data.tags["kept_tag"] == "t"


@pytest.mark.parametrize(("key", "message"), BAD_KEYS)
@pytest.mark.parametrize("kind", ["metric", "param", "tag"])
def test_bad_keys_rejected(run_with_data: str, kind: str, key: str, message: str) -> None:
    client = MlflowClient()
    call = {
        "metric": lambda: client.log_metric(run_with_data, key, 1.0),  # type: ignore[arg-type]
        "param": lambda: client.log_param(run_with_data, key, 1),  # type: ignore[arg-type]
        "tag": lambda: client.set_tag(run_with_data, key, 1),
    }[kind]  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match=message.replace("(", r"\(").replace(".", r"\.")) as info:
        call()
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    _assert_intact(run_with_data)


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys_accepted(run_with_data: str, key: str) -> None:
    client = MlflowClient()
    client.log_metric(run_with_data, key, 1.5)
    client.log_param(run_with_data, key, "v")
    client.set_tag(run_with_data, key, "w")
    stored = client.get_run(run_with_data)
    assert stored.data.metrics[key] == 1.5 and stored.data.params[key] == "v" and stored.data.tags[key] == "w"
    assert [m.value for m in client.get_metric_history(run_with_data, key)] == [1.5]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Please specify value as a valid double"),
        (None, "Missing value for required parameter 'value'"),
        ([1, 2], "valid double"),
        (object(), "valid double"),
    ],
)
def test_bad_metric_values(run_with_data: str, value: object, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        MlflowClient().log_metric(run_with_data, "m", value)
    _assert_intact(run_with_data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step": "x"}, "invalid step"),
        ({"step": 1.5}, "invalid step"),
        ({"step": 2**63}, "invalid step"),
        ({"timestamp": -1}, "must not be negative"),
        ({"timestamp": "now"}, "invalid timestamp"),
    ],
)
def test_bad_steps_and_timestamps(run_with_data: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        MlflowClient().log_metric(run_with_data, "m", 1.0, **kwargs)  # type: ignore[arg-type]
    _assert_intact(run_with_data)


def test_numpy_scalars_and_arrays_coerced(run_with_data: str) -> None:
    np = pytest.importorskip("numpy")
    client = MlflowClient()
    client.log_metric(run_with_data, "np", np.float32(0.5))
    client.log_metric(run_with_data, "arr", np.array([0.25]))
    client.log_metric(run_with_data, "step", 1.0, step=np.int64(4))
    metrics = client.get_run(run_with_data).data.metrics
    assert metrics["np"] == 0.5 and metrics["arr"] == 0.25


def test_long_values_truncated_or_refused(run_with_data: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = MlflowClient()
    with pytest.warns(UserWarning, match="truncated"):
        client.log_param(run_with_data, "long", "x" * 7000)
    assert client.get_run(run_with_data).data.params["long"] == "x" * 6000
    monkeypatch.setenv("GITRUN_TRUNCATE_LONG_VALUES", "false")
    with pytest.raises(InvalidParameterValue, match="exceeded length limit of 8000"):
        client.set_tag(run_with_data, "long", "y" * 8001)
    _assert_intact(run_with_data)


def test_batch_is_validated_before_anything_is_written(run_with_data: str) -> None:
    client = MlflowClient()
    with pytest.raises(InvalidParameterValue):
        client.log_batch(
            run_with_data,
            metrics=[Metric("ok", 1.0, 1, 0), Metric("bad!", 1.0, 1, 0)],
            params=[Param("new_param", "1")],
            tags=[RunTag("new_tag", "1")],
        )
    stored = client.get_run(run_with_data)
    assert "ok" not in stored.data.metrics and "new_param" not in stored.data.params
    assert "new_tag" not in stored.data.tags
    _assert_intact(run_with_data)


def test_bad_ids_and_names(run_with_data: str) -> None:
    client = MlflowClient()
    with pytest.raises(InvalidParameterValue, match="Invalid run ID"):
        client.get_run("../etc")
    with pytest.raises(gitrun.MlflowException, match="not found") as info:
        client.get_run("f" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(InvalidParameterValue, match="must not be empty"):
        client.create_experiment("  ")
    with pytest.raises(InvalidParameterValue, match="maximum length of 500"):
        client.create_experiment("e" * 501)
    with pytest.raises(InvalidParameterValue, match="Invalid experiment ID"):
        gitrun.start_run(experiment_id=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="runs:/"):
        client.create_experiment("x", artifact_location="runs:/abc")
    _assert_intact(run_with_data)


def test_batches_larger_than_one_mlflow_request_are_accepted(run_with_data: str) -> None:
    # MLflow's per-request limits (1000 metrics, 100 params/tags, 1000 entities) do not
    # apply to MlflowClient.log_batch, which splits a larger batch into requests.
    from gitrun.tracking import validation

    client = MlflowClient()
    metrics = [Metric("series", float(i), i, i) for i in range(validation.MAX_METRICS_PER_BATCH + 1)]
    params = [Param(f"p{i}", str(i)) for i in range(validation.MAX_PARAMS_TAGS_PER_BATCH + 1)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(validation.MAX_PARAMS_TAGS_PER_BATCH + 1)]
    client.log_batch(run_with_data, metrics=metrics, params=params, tags=tags)
    stored = client.get_run(run_with_data)
    assert len([k for k in stored.data.params if k.startswith("p")]) == 101
    assert len([k for k in stored.data.tags if k.startswith("t")]) == 101
    history = client.get_metric_history(run_with_data, "series")
    assert [m.step for m in history] == list(range(1001))
    _assert_intact(run_with_data)
