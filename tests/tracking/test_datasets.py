"""Dataset inputs: gitrun.data objects, log_input, run inputs and dataset.* filters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import InvalidParameterValue

pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.usefixtures("in_repo")


def frame() -> object:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0], "n": [1, 2, 3], "label": ["a", "b", "a"]})


def test_the_same_dataframe_logged_from_two_runs_has_one_digest_and_is_found() -> None:
    ids = []
    for context in ("training", "training"):
        with gitrun.start_run() as run:
            dataset = gitrun.data.from_pandas(frame(), source="data/train.csv", name="train", targets="label")
            gitrun.log_input(dataset, context=context, tags={"split": "v1"})
            ids.append(run.info.run_id)
    with gitrun.start_run() as other:
        gitrun.log_input(gitrun.data.from_pandas(frame().iloc[:2], name="train"), context="eval")
    first, second = (gitrun.get_run(i).inputs.dataset_inputs[0].dataset for i in ids)
    assert first.digest == second.digest
    assert first.digest.startswith("sha256:") and len(first.digest) == 71
    by_digest = gitrun.search_runs(filter_string=f"dataset.digest = '{first.digest}'", output_format="list")
    assert sorted(r.info.run_id for r in by_digest) == sorted(ids)
    by_context = gitrun.search_runs(filter_string="dataset.context = 'training'", output_format="list")
    assert sorted(r.info.run_id for r in by_context) == sorted(ids)
    evals = gitrun.search_runs(filter_string="dataset.context = 'eval'", output_format="list")
    assert [r.info.run_id for r in evals] == [other.info.run_id]
    both = gitrun.search_runs(
        filter_string="dataset.name = 'train' and dataset.context IN ('training', 'eval')",
        output_format="list",
    )
    assert len(both) == 3


def test_run_inputs_carry_mlflow_fields() -> None:
    with gitrun.start_run() as run:
        dataset = gitrun.data.from_pandas(frame(), source="data/train.csv", name="train", targets="label")
        gitrun.log_input(dataset, context="training", tags={"split": "v1"})
        gitrun.log_input(dataset, context="other")  # the same dataset again: the first input stays
    (item,) = gitrun.get_run(run.info.run_id).inputs.dataset_inputs
    assert item.dataset.name == "train"
    assert item.dataset.source_type == "local"
    assert json.loads(item.dataset.source)["uri"].endswith("data/train.csv")
    assert json.loads(item.dataset.profile) == {"num_rows": 3, "num_elements": 9}
    colspec = json.loads(item.dataset.schema)["mlflow_colspec"]
    assert [(c["name"], c["type"]) for c in colspec] == [("x", "double"), ("n", "long"), ("label", "string")]
    assert {(t.key, t.value) for t in item.tags} == {("mlflow.data.context", "training"), ("split", "v1")}
    assert gitrun.data.get_source(item.dataset).load().endswith("data/train.csv")


def test_digest_follows_content_not_row_labels() -> None:
    df = frame()
    shuffled_labels = df.set_index(pd.Index([10, 11, 12]))
    assert gitrun.data.from_pandas(df).digest == gitrun.data.from_pandas(shuffled_labels).digest
    changed = df.copy()
    changed.loc[0, "x"] = 1.5
    assert gitrun.data.from_pandas(changed).digest != gitrun.data.from_pandas(df).digest
    as_float32 = df.astype({"x": "float32"})
    assert gitrun.data.from_pandas(as_float32).digest != gitrun.data.from_pandas(df).digest
    renamed = df.rename(columns={"x": "y"})
    assert gitrun.data.from_pandas(renamed).digest != gitrun.data.from_pandas(df).digest


def test_numpy_datasets() -> None:
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    dataset = gitrun.data.from_numpy(X, targets=y, name="arrays")
    assert dataset.digest == gitrun.data.from_numpy(X.copy(), targets=y.copy()).digest
    assert dataset.digest != gitrun.data.from_numpy(X).digest
    assert dataset.profile["features_shape"] == [4, 3]
    assert dataset.source.source_type == "code"
    with gitrun.start_run() as run:
        gitrun.log_input(dataset, context="training")
    (item,) = gitrun.get_run(run.info.run_id).inputs.dataset_inputs
    spec = json.loads(json.loads(item.dataset.schema)["mlflow_tensorspec"]["features"])
    assert spec[0]["tensor-spec"] == {"dtype": "float64", "shape": [-1, 3]}


def test_huggingface_style_datasets() -> None:
    class Tiny:  # the part of datasets.Dataset gitrun reads
        num_rows = 3
        features = {"text": "string", "label": "int64"}
        split = "train"

        def to_pandas(self) -> object:
            return pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 0]})

    dataset = gitrun.data.from_huggingface(Tiny(), path="org/tiny", targets="label")
    assert dataset.digest == gitrun.data.from_pandas(Tiny().to_pandas()).digest
    assert dataset.source.source_type == "hugging_face"
    assert json.loads(dataset.to_dict()["source"]) == {"path": "org/tiny", "split": "train"}
    assert dataset.profile == {"num_rows": 3}


def test_declared_files_and_datasets_share_the_digest_scheme(in_repo: Path) -> None:
    (in_repo / "train.csv").write_text("x,n\n1,2\n")
    with gitrun.start_run() as run:
        gitrun.log_input("train.csv")
        gitrun.log_input(gitrun.data.from_pandas(frame(), name="train"), context="training")
    names = [i.dataset.name for i in gitrun.get_run(run.info.run_id).inputs.dataset_inputs]
    assert names == ["train.csv", "train"]
    file_digest = gitrun.get_run(run.info.run_id).inputs.dataset_inputs[0].dataset.digest
    found = gitrun.search_runs(filter_string=f"dataset.digest = '{file_digest}'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_bad_inputs_are_refused() -> None:
    with gitrun.start_run():
        with pytest.raises(InvalidParameterValue, match="path or a dataset"):
            gitrun.log_input(42)
        with pytest.raises(InvalidParameterValue, match="not in the DataFrame"):
            gitrun.data.from_pandas(frame(), targets="missing")
        with pytest.raises(InvalidParameterValue, match="context and tags apply to datasets"):
            MlflowClient().log_input(gitrun.active_run().info.run_id, "train.py", context="training")


def test_client_log_inputs_takes_mlflow_dataset_inputs() -> None:
    from gitrun.entities import DatasetInput, InputTag

    client = MlflowClient()
    run = client.create_run("0")
    entity = gitrun.data.from_pandas(frame(), name="train")._to_mlflow_entity()
    client.log_inputs(
        run.info.run_id, [DatasetInput(entity, [InputTag("mlflow.data.context", "validation")])]
    )
    found = gitrun.search_runs(filter_string="dataset.context = 'validation'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]
