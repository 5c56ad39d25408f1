"""search_runs conformance: every example of the reference's §12, on runs made through the API.

The fixture has missing metrics, NaN values, a nested run, a deleted run, runs in
two experiments and every status.  Expected results are written out by run name.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import gitrun
from gitrun import MlflowClient, ViewType
from gitrun.entities import Metric, Param, Run, RunData, RunInfo, RunInputs, RunOutputs
from gitrun.errors import INVALID_PARAMETER_VALUE, InvalidParameterValue
from gitrun.tracking import session as tracking_session
from tests.conftest import GIT_IDENTITY, git
from tests.core.index.test_grammar import REJECTED_FILTERS, REJECTED_ORDER_BY, VALID_ORDER_BY

NAN = float("nan")

# name: experiment, start_time, final status (None: still RUNNING), params, metrics, tags
RUNS: dict[str, tuple[str, int, str | None, dict[str, str], dict[str, float], dict[str, str]]] = {
    "A": (
        "a",
        1000,
        "FINISHED",
        {
            "model": "LinearRegression",
            "m": "LR",
            "lr": "0.01",
            "cat dog": "pets",
            "p.a": "x",
            "p.a.r.a.m": "a",
            "x": "",
            "model_class": "LR",
            "p": "x",
            "b": "val",
        },
        {
            "acc": 0.95,
            "loss": 0.0,
            "XYZ": 3.0,
            "X-Y-Z": 3.0,
            "spacey name": 6.0,
            "a": -0.0015,
            "m": 1.5,
            "rmse": 0.5,
        },
        {"version": "commit-hash", "team": "red", "t-1": "v", "t": "y", "a": "1"},
    ),
    "B": (
        "a",
        2000,
        None,
        {"model": "RF", "m": "L'Hosp", "lr": "0.1", "x": "y"},
        {"acc": 0.85, "loss": NAN, "m": 0.4, "rmse": 2.0, "a": 0.2},
        {"team": "blue", "mlflow.user": "alice"},
    ),
    "C": (
        "a",
        3000,
        "FAILED",
        {"model": "lr", "p.a.r.a.m": "b"},
        {"acc": NAN, "loss": 1.0, "X-Y-Z": 4.0},
        {"a": "1"},
    ),
    "D": ("a", 4000, "FINISHED", {"model": "LR", "b": "val"}, {}, {}),  # nested under A, no metrics
    "E": ("a", 5000, "FINISHED", {"model": "LinearRegression"}, {"acc": 0.99}, {}),  # deleted
    "F": ("b", 6000, "FINISHED", {"model": "LinearRegression"}, {"acc": 0.97}, {}),  # other experiment
    "G": ("a", 7000, "KILLED", {}, {"acc": 100.0, "loss": -1.0}, {}),
}
ACTIVE_A = ["A", "B", "C", "D", "G"]


@dataclass
class Fixture:
    uri: str
    experiments: dict[str, str]
    ids: dict[str, str]

    def names(self, runs: list[gitrun.entities.Run]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[r.info.run_id] for r in runs]


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    root = tmp_path_factory.mktemp("search")
    repo, home = root / "repo", root / "home"
    repo.mkdir()
    home.mkdir()
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        for key, value in GIT_IDENTITY.items():
            mp.setenv(key, value)
        for key in list(os.environ):
            if key.startswith(("GITRUN_", "MLFLOW_")):
                mp.delenv(key)
        git(repo, "init", "-q")
        (repo / "train.py").write_text("print('train')\n")
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "initial")
        mp.chdir(repo)
        client = MlflowClient(str(repo))
        experiments = {"a": client.create_experiment("search-a"), "b": client.create_experiment("search-b")}
        ids: dict[str, str] = {}
        for name, (exp, start, status, params, metrics, tags) in RUNS.items():
            extra = {"mlflow.parentRunId": ids["A"]} if name == "D" else {}
            run = client.create_run(experiments[exp], start_time=start, run_name=name, tags={**tags, **extra})
            run_id = run.info.run_id
            ids[name] = run_id
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, start + 1, 0) for k, v in metrics.items()],
                params=[Param(k, v) for k, v in params.items()],
            )
            if status is not None:
                client.set_terminated(run_id, status, end_time=start + 500)
            else:
                # Left RUNNING as if another live process owned it: this process lets go,
                # so closing the store does not mark it KILLED (that is for crashed owners).
                client.store.runs.release(run_id)
        client.delete_run(ids["E"])
        client.flush()
        tracking_session.close_all()
        yield Fixture(str(repo), experiments, ids)


@pytest.fixture
def client(fx: Fixture) -> MlflowClient:
    return MlflowClient(fx.uri)


def search(fx: Fixture, filter_string: str, **kwargs: object) -> list[str]:
    experiments: list[str] = kwargs.pop("experiments", ["a"])  # type: ignore[assignment]
    ids = [fx.experiments[e] for e in experiments]
    return fx.names(MlflowClient(fx.uri).search_runs(ids, filter_string, **kwargs))  # type: ignore[arg-type]


# §12.1, every valid example: (filter, runs of experiment "a" that match, in default order).
# Default order is start_time DESC, so later runs come first.
VALID = [
    ("metric.acc >= 0.94", ["G", "A"]),
    ("metric.acc>=100", ["G"]),
    ("metrics.acc > 0.8", ["G", "B", "A"]),
    ("metrics.acc != 0.9", ["G", "C", "B", "A"]),  # C's NaN matches !=, D has no acc
    ("metrics.loss != 0", ["G", "C", "B"]),  # B's NaN loss matches
    ("metrics.acc > 1e-3", ["G", "B", "A"]),
    ("metrics.m > .5", ["A"]),
    ("metrics.a = -1.5e-3", ["A"]),
    ("metrics.XYZ = 3", ["A"]),
    ('metrics."X-Y-Z" = 3', ["A"]),
    ('metrics."X//Y#$$@&Z" = 3', []),
    ("metrics.`spacey name` > 5", ["A"]),
    ("metrics.'acc' > 1", ["G"]),
    ("`metric`.a >= 0.1", ["B"]),
    ("params.model = 'LinearRegression'", ["A"]),
    ('params.m = "LR"', ["A"]),
    ('params.m = "L\'Hosp"', ["B"]),
    ('params."cat dog" = "pets"', ["A"]),
    ("params.model != 'LR'", ["C", "B", "A"]),
    ("params.model LIKE 'L%'", ["D", "A"]),
    ("params.model ILIKE 'l%'", ["D", "C", "A"]),
    ("params.model LIKE '_F'", ["B"]),
    ("param.lr = '0.01'", ["A"]),
    ("parameters.lr = '0.1'", ["B"]),
    ("params.p.a = 'x'", ["A"]),
    ('params."p.a.r.a.m" != "a"', ["C"]),
    ("params.lr IS NULL", ["G", "D", "C"]),
    ("params.lr is not null", ["B", "A"]),
    ("params.x != ''", ["B"]),
    ("tags.version = 'commit-hash'", ["A"]),
    ("tags.mlflow.runName = 'A'", ["A"]),
    ("tags.`mlflow.user` = 'alice'", ["B"]),
    ("tags.\"t-1\" = 'v'", ["A"]),
    ("tag.team != 'red'", ["B"]),
    ("tags.version IS NOT NULL", ["A"]),
    ("tags.a IS NULL AND params.b = 'val'", ["D"]),
    ("attributes.status = 'FINISHED'", ["D", "A"]),
    ("run.status = 'RUNNING'", ["B"]),
    ("status = 'FAILED'", ["C"]),
    ("attr.status = 'X'", []),
    ("attributes.run_name = 'A'", ["A"]),
    ("run_name LIKE 'A%'", ["A"]),
    ("`Run name` = 'B'", ["B"]),
    ("attribute.artifact_uri = '1/23/4'", []),
    ("attribute.start_time >= 1234", ["G", "D", "C", "B"]),
    ("created > 0", ["G", "D", "C", "B", "A"]),
    ("start_time > 1.5", ["G", "D", "C", "B", "A"]),
    ("attributes.end_time > 0", ["G", "D", "C", "A"]),  # B is still running
    ("attributes.user_id = 'alice'", ["B"]),
    ("metrics.rmse < 1 and params.model_class = 'LR'", ["A"]),
    ("metrics.m > 1 and  params.p = 'x'  AND tags.t = 'y'", ["A"]),
    ("dataset.name = 'my_dataset'", []),  # no run records dataset inputs
    ("datasets.digest IN ('a','b')", []),
    ("dataset.context IN ('train','eval')", []),
    ("datasets.name = 'name1' AND datasets.context = 'train'", []),
    ("metrics.acc = 1 AND metrics.acc = 2", []),
    ("", ["G", "D", "C", "B", "A"]),
    ("metrics.acc > 0.8 AND", ["G", "B", "A"]),
]


@pytest.mark.parametrize(("filter_string", "expected"), VALID)
def test_valid_filter_examples(fx: Fixture, filter_string: str, expected: list[str]) -> None:
    assert search(fx, filter_string) == expected


def test_run_id_examples(fx: Fixture) -> None:
    a, b = fx.ids["A"], fx.ids["B"]
    assert search(fx, f"attributes.run_id = '{a}'") == ["A"]
    assert search(fx, f"attributes.run_id IN ('{a}', '{b}')") == ["B", "A"]
    assert search(fx, f"run_id NOT IN ('{a}')") == ["G", "D", "C", "B"]


def test_user_id_example_as_written(fx: Fixture, client: MlflowClient) -> None:
    # `attributes.user_id = 'root'`: whichever runs were made by a user called root.
    expected = [n for n in ("G", "D", "C", "A") if client.get_run(fx.ids[n]).info.user_id == "root"]
    assert search(fx, "attributes.user_id = 'root'") == expected


def test_artifact_uri_compares_as_recorded(fx: Fixture, client: MlflowClient) -> None:
    uri = client.get_run(fx.ids["C"]).info.artifact_uri
    assert search(fx, f"attribute.artifact_uri = '{uri}'") == ["C"]


def test_view_types_and_experiments(fx: Fixture) -> None:
    flt = "params.model = 'LinearRegression'"
    assert search(fx, flt, run_view_type=ViewType.ALL) == ["E", "A"]
    assert search(fx, flt, run_view_type=ViewType.DELETED_ONLY) == ["E"]
    assert search(fx, flt, experiments=["a", "b"]) == ["F", "A"]
    assert search(fx, "metrics.acc > 0.9", experiments=["b", "a"], run_view_type=ViewType.ALL) == [
        "G",
        "F",
        "E",
        "A",
    ]
    assert search(fx, "", experiments=[]) == []


def test_results_equal_get_run(fx: Fixture, client: MlflowClient) -> None:
    runs = client.search_runs([fx.experiments["a"], fx.experiments["b"]], run_view_type=ViewType.ALL)
    assert len(runs) == len(RUNS)
    for run in runs:
        stored = client.get_run(run.info.run_id)
        assert run.info == stored.info
        assert run.data.params == stored.data.params
        assert run.data.tags == stored.data.tags
        assert run.data.metrics.keys() == stored.data.metrics.keys()
        for key, value in run.data.metrics.items():
            assert value == stored.data.metrics[key] or (
                math.isnan(value) and math.isnan(stored.data.metrics[key])
            )
        # Search pages build entities without __init__ (run_from_fields): the same
        # values, types and immutability as ordinary construction, nothing shared.
        assert run == Run(run.info, RunData(run.data.metrics, run.data.params, run.data.tags))
        assert run.info == RunInfo(**{f.name: getattr(run.info, f.name) for f in dataclasses.fields(RunInfo)})
        assert (run.inputs, run.outputs, run.record) == (RunInputs(), RunOutputs(), {})
        assert all(type(v) is float for v in run.data.metrics.values())
        with pytest.raises(dataclasses.FrozenInstanceError):
            run.info.status = "KILLED"  # type: ignore[misc]
    assert runs[0].inputs.dataset_inputs is not runs[1].inputs.dataset_inputs
    assert runs[0].data.metrics is not runs[1].data.metrics


def test_nested_run_carries_its_parent(fx: Fixture) -> None:
    assert search(fx, f"tags.mlflow.parentRunId = '{fx.ids['A']}'") == ["D"]


@pytest.mark.parametrize(("filter_string", "prefix", "position"), REJECTED_FILTERS)
def test_rejected_filter_examples(fx: Fixture, filter_string: str, prefix: str, position: int) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        search(fx, filter_string)
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    assert excinfo.value.message.startswith(prefix)
    assert f"(at position {position})" in excinfo.value.message


# -- ordering -------------------------------------------------------------------------------------


def order(fx: Fixture, order_by: list[str], filter_string: str = "", **kwargs: object) -> list[str]:
    return search(fx, filter_string, order_by=order_by, **kwargs)


def test_order_by_metric_places_nan_then_missing_last(fx: Fixture) -> None:
    # acc: G 100, A .95, B .85, C NaN, D missing.
    assert order(fx, ["metrics.acc"]) == ["B", "A", "G", "C", "D"]
    assert order(fx, ["metrics.acc DESC"]) == ["G", "A", "B", "C", "D"]


def test_order_by_param_is_binary_string_order_missing_last(fx: Fixture) -> None:
    # model: A LinearRegression, B RF, C lr, D LR, G missing.
    assert order(fx, ["params.model"]) == ["D", "A", "B", "C", "G"]
    assert order(fx, ["params.model DESC"]) == ["C", "B", "A", "D", "G"]


def test_order_by_attributes_and_tie_breaks(fx: Fixture) -> None:
    assert order(fx, ["attributes.start_time"]) == ["A", "B", "C", "D", "G"]
    assert order(fx, ["created DESC"]) == ["G", "D", "C", "B", "A"]
    # end_time: B has none: last in both directions.
    assert order(fx, ["attr.end_time desc"]) == ["G", "D", "C", "A", "B"]
    assert order(fx, ["attr.end_time"]) == ["A", "C", "D", "G", "B"]
    # Equal status: start_time DESC breaks the tie.
    assert order(fx, ["status"]) == ["C", "D", "A", "G", "B"]
    # A tag no run has: every run "missing", natural order.
    assert order(fx, ["tags.noSuchTag"]) == ["G", "D", "C", "B", "A"]
    assert order(fx, ["tags.team", "metrics.loss DESC"]) == ["B", "A", "C", "G", "D"]


@pytest.mark.parametrize(("entry", "expected"), VALID_ORDER_BY)
def test_valid_order_by_examples(fx: Fixture, entry: str, expected: object) -> None:
    assert sorted(order(fx, [entry])) == sorted(ACTIVE_A)


@pytest.mark.parametrize(("entry", "prefix"), REJECTED_ORDER_BY)
def test_rejected_order_by_examples(fx: Fixture, entry: str, prefix: str) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        order(fx, [entry])
    assert excinfo.value.message.startswith(prefix)


@pytest.mark.usefixtures("in_repo")
def test_nan_and_missing_placement_example() -> None:
    """§11.7's example: ASC [-inf, -1000, 0, 1000, inf, nan, None], DESC mirrored."""
    client = MlflowClient()
    exp = client.create_experiment("ordering")
    values = [math.inf, 0.0, None, -1000.0, math.nan, -math.inf, 1000.0]
    names = {}
    for i, value in enumerate(values):
        run = client.create_run(exp, start_time=1000 + i)
        if value is not None:
            client.log_metric(run.info.run_id, "x", value)
        names[run.info.run_id] = value

    def ordered(direction: str) -> list[float | None]:
        runs = client.search_runs([exp], order_by=[f"metrics.x {direction}"])
        return [names[r.info.run_id] for r in runs]

    def same(got: list[float | None], want: list[float | None]) -> bool:
        return all(
            a is b
            or a == b
            or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
            for a, b in zip(got, want, strict=True)
        )

    assert same(ordered("ASC"), [-math.inf, -1000.0, 0.0, 1000.0, math.inf, math.nan, None])
    assert same(ordered("DESC"), [math.inf, 1000.0, 0.0, -1000.0, -math.inf, math.nan, None])


# -- paging and limits -----------------------------------------------------------------------------


@pytest.mark.usefixtures("in_repo")
def test_paging_with_tokens() -> None:
    client = MlflowClient()
    exp = client.create_experiment("paging")
    made = [client.create_run(exp, start_time=1000 + i).info.run_id for i in range(25)]
    newest_first = list(reversed(made))
    seen: list[str] = []
    token = None
    sizes = []
    while True:
        page = client.search_runs([exp], max_results=10, page_token=token)
        sizes.append(len(page))
        seen += [r.info.run_id for r in page]
        token = page.token
        if token is None:
            break
    assert sizes == [10, 10, 5]
    assert seen == newest_first
    # Exactly max_results left and nothing after: no token.
    page = client.search_runs([exp], max_results=25)
    assert len(page) == 25 and page.token is None
    page = client.search_runs([exp], max_results=24)
    assert page.token is not None
    last = client.search_runs([exp], max_results=24, page_token=page.token)
    assert [r.info.run_id for r in last] == [made[0]] and last.token is None


@pytest.mark.usefixtures("in_repo")
def test_page_token_of_another_search_is_refused() -> None:
    client = MlflowClient()
    exp = client.create_experiment("tokens")
    for i in range(3):
        client.create_run(exp, start_time=i)
    token = client.search_runs([exp], max_results=1).token
    assert token is not None
    for other in (
        {"filter_string": "attributes.start_time > 0"},
        {"order_by": ["start_time"]},
        {"run_view_type": ViewType.ALL},
    ):
        with pytest.raises(InvalidParameterValue, match="Invalid page token"):
            client.search_runs([exp], max_results=1, page_token=token, **other)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="Invalid page token"):
        client.search_runs(["0"], max_results=1, page_token=token)
    for garbage in ("not base64!", "eyJmb28iOiAxfQ==", "bnVsbA=="):
        with pytest.raises(InvalidParameterValue, match="Invalid page token"):
            client.search_runs([exp], page_token=garbage)
    # The same search with another page size is fine (offsets, as MLflow).
    assert len(client.search_runs([exp], max_results=2, page_token=token)) == 2


@pytest.mark.usefixtures("in_repo")
@pytest.mark.parametrize(
    ("max_results", "message"),
    [
        (0, "must be a positive integer"),
        (-1, "must be a positive integer"),
        (50001, "must be at most 50000"),
        ("10", "must be a positive integer"),
    ],
)
def test_max_results_bounds(max_results: object, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        MlflowClient().search_runs(["0"], max_results=max_results)  # type: ignore[arg-type]


@pytest.mark.usefixtures("in_repo")
def test_max_results_upper_bound_accepted() -> None:
    assert list(MlflowClient().search_runs(["0"], max_results=50000)) == []


@pytest.mark.usefixtures("in_repo")
def test_search_reads_own_unflushed_writes() -> None:
    with gitrun.start_run() as run:
        gitrun.log_metric("acc", 0.5)
        gitrun.log_param("p", "v")
        found = MlflowClient().search_runs(["0"], "metrics.acc = 0.5 and params.p = 'v'")
        assert [r.info.run_id for r in found] == [run.info.run_id]
        assert found[0].info.status == "RUNNING"


def test_single_experiment_id_and_view_names(fx: Fixture, client: MlflowClient) -> None:
    assert len(client.search_runs(fx.experiments["a"])) == len(ACTIVE_A)
    assert len(client.search_runs(int(fx.experiments["a"]), run_view_type="ALL")) == len(ACTIVE_A) + 1  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="view type"):
        client.search_runs(fx.experiments["a"], run_view_type=7)
