"""The model registry in one repository: models, versions, aliases, URIs, audit in git."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import CorruptObject, InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from tests.conftest import git

pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression

pytestmark = pytest.mark.usefixtures("in_repo")


def train(c: float = 1.0) -> tuple[LogisticRegression, np.ndarray]:
    rng = np.random.RandomState(0)
    X = rng.rand(60, 3)
    return LogisticRegression(C=c).fit(X, (X[:, 0] > 0.5).astype(int)), X


def log(c: float = 1.0) -> tuple[str, LogisticRegression, np.ndarray]:
    model, X = train(c)
    with gitrun.start_run():
        info = gitrun.sklearn.log_model(model, "model")
    return info.model_uri, model, X


def test_register_versions_aliases_and_models_uris(in_repo: Path) -> None:
    client = MlflowClient()
    first_uri, first, X = log(1.0)
    second_uri, second, _ = log(0.01)
    v1 = gitrun.register_model(first_uri, "churn")
    v2 = gitrun.register_model(second_uri, "churn", tags={"data": "2024-06"})
    assert (v1.version, v2.version) == (1, 2)
    assert v2.source == second_uri and v2.tags == {"data": "2024-06"}
    assert v2.model_digest == client.artifact_digest(v2.run_id, "model")
    assert v2.model_id == client.run_logged_models(v2.run_id)["model"].model_id
    assert v2.user_id == "Test Committer <committer@example.com>"  # git's identity
    client.set_registered_model_alias("churn", "champion", 1)
    assert client.get_model_version_by_alias("churn", "champion").version == 1
    assert client.get_registered_model("churn").aliases == {"champion": 1}
    champion = gitrun.sklearn.load_model("models:/churn@champion")
    np.testing.assert_array_equal(champion.predict_proba(X), first.predict_proba(X))
    latest = gitrun.pyfunc.load_model("models:/churn/latest")
    np.testing.assert_array_equal(latest.predict(X), second.predict(X))
    np.testing.assert_array_equal(gitrun.sklearn.load_model("models:/churn/2").predict(X), second.predict(X))
    client.set_registered_model_alias("churn", "champion", 2)
    assert client.get_model_version("churn", 2).aliases == ["champion"]
    log_lines = git(in_repo, "log", "--format=%an|%s", "refs/gitrun/registry").splitlines()
    assert log_lines[0] == "Test Committer|registry: alias churn@champion -> version 2 (was 1)"
    assert "Test Committer|registry: register churn version 1 from " + first_uri in log_lines
    assert [c[2].splitlines()[0] for c in client.registry_history()][:2] == [
        "registry: alias churn@champion -> version 2 (was 1)",
        "registry: alias churn@champion -> version 1",
    ]


def test_logged_model_ids_register_and_load(in_repo: Path) -> None:
    model, X = train()
    with gitrun.start_run():
        info = gitrun.sklearn.log_model(model, "model", registered_model_name="fraud", params={"C": 1.0})
    assert info.registered_model_version == 1
    logged = gitrun.get_logged_model(info.model_id)
    assert logged.params == {"C": "1.0"} and logged.source_run_id == info.run_id
    np.testing.assert_array_equal(
        gitrun.sklearn.load_model(f"models:/{info.model_id}").predict(X), model.predict(X)
    )
    version = MlflowClient().get_model_version("fraud", 1)
    assert version.model_id == info.model_id and version.source == info.model_uri


def test_crud_search_and_tombstones() -> None:
    client = MlflowClient()
    uri, _, _ = log()
    client.create_registered_model("a-model", tags={"team": "x"}, description="first")
    with pytest.raises(ResourceAlreadyExists):
        client.create_registered_model("a-model")
    client.create_model_version("a-model", uri)
    client.create_model_version("a-model", uri)
    client.update_model_version("a-model", 2, description="retrained")
    client.set_model_version_tag("a-model", 2, "validated", "yes")
    client.set_registered_model_alias("a-model", "prod", 2)
    client.delete_model_version("a-model", 2)
    with pytest.raises(ResourceDoesNotExist):
        client.get_model_version("a-model", 2)
    with pytest.raises(ResourceDoesNotExist):
        client.get_model_version_by_alias("a-model", "prod")  # the alias went with the version
    assert client.create_model_version("a-model", uri).version == 3  # numbers are never reused
    client.update_registered_model("a-model", description="second")
    client.rename_registered_model("a-model", "b-model")
    client.create_registered_model("other")
    names = [m.name for m in client.search_registered_models(filter_string="name LIKE 'b-%'")]
    assert names == ["b-model"]
    assert [m.name for m in client.search_registered_models(filter_string="tags.team = 'x'")] == ["b-model"]
    found = client.search_model_versions("name = 'b-model'")
    assert [v.version for v in found] == [3, 1]
    assert client.get_registered_model("b-model").description == "second"
    client.delete_registered_model("other")
    assert [m.name for m in client.search_registered_models()] == ["b-model"]


def test_bad_registry_input_is_refused() -> None:
    client = MlflowClient()
    uri, _, _ = log()
    gitrun.register_model(uri, "m")
    with pytest.raises(InvalidParameterValue, match="reserved"):
        client.set_registered_model_alias("m", "latest", 1)
    with pytest.raises(InvalidParameterValue, match="Invalid alias"):
        client.set_registered_model_alias("m", "a b", 1)
    with pytest.raises(ResourceDoesNotExist, match="version=7"):
        client.set_registered_model_alias("m", "champion", 7)
    with pytest.raises(ResourceDoesNotExist, match="not found"):
        gitrun.sklearn.load_model("models:/no-such-model/1")
    with pytest.raises(InvalidParameterValue, match="names a run"):
        gitrun.register_model(uri.rsplit("/", 1)[0], "m")
    with pytest.raises(ResourceDoesNotExist, match="not found in run"):
        gitrun.register_model(uri.rsplit("/", 1)[0] + "/nothing", "m")


def test_a_replaced_model_no_longer_matches_its_registered_digest() -> None:
    model, _ = train()
    with gitrun.start_run() as run:
        gitrun.sklearn.log_model(model, "model")
    gitrun.register_model(f"runs:/{run.info.run_id}/model", "pinned")
    with gitrun.start_run(run_id=run.info.run_id):
        gitrun.sklearn.log_model(train(0.001)[0], "model")  # other bytes under the same name
    with pytest.raises(CorruptObject, match="not the registered ones"):
        gitrun.sklearn.load_model("models:/pinned/1")


def test_reads_do_not_create_the_registry(in_repo: Path) -> None:
    client = MlflowClient()
    assert list(client.search_registered_models()) == []
    with pytest.raises(ResourceDoesNotExist):
        client.get_registered_model("x")
    assert git(in_repo, "rev-parse", "--verify", "-q", "refs/gitrun/registry", check=False).strip() == ""
