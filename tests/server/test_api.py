"""The UI's JSON API over a real server (``gitrun ui`` on 127.0.0.1): reads, writes and
their protections (read-only by default, CSRF, artifact paths, foreign hosts, headers)."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.server.conftest import Recorded, UiServer
from tests.server.sample import HOSTILE


def call(
    server: UiServer,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    url = server.url.rstrip("/") + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def get_json(server: UiServer, url_path: str, /, **params: Any) -> Any:
    status, _, body = call(server, url_path, params)
    assert status == 200, body
    return json.loads(body)


def test_the_page_and_its_files_are_served_with_a_strict_policy(server: UiServer) -> None:
    status, headers, body = call(server, "/")
    assert status == 200
    assert b'<script type="module" src="/static/js/app.js">' in body
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    status, _, script = call(server, "/static/js/app.js")
    assert status == 200 and b"import" in script
    status, _, vendored = call(server, "/static/vendor/uplot/uPlot.esm.js")
    assert status == 200 and b"export" in vendored
    # Nothing is fetched from elsewhere: no http(s) URL in any page file.
    for name in ("index.html", "style.css", "js/app.js", "js/charts.js", "js/pages/runs.js"):
        _, _, text = call(server, f"/static/{name}" if name != "index.html" else "/")
        assert b"http://" not in text and b"https://" not in text, name


def test_a_foreign_host_header_is_refused(server: UiServer) -> None:
    # DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends Host: evil.example.
    status, _, body = call(server, "/api/ui/config", headers={"Host": "evil.example:80"})
    assert status == 421 and b"localhost" in body
    assert call(server, "/api/ui/config", headers={"Host": f"localhost:{server.port}"})[0] == 200


def test_experiments_list_runs_and_activity(server: UiServer, recorded: Recorded) -> None:
    data = get_json(server, "/api/ui/experiments")
    assert data["has_records"] is True
    by_id = {e["experiment_id"]: e for e in data["experiments"]}
    sweep = by_id[recorded.sample.experiment_id]
    assert sweep["name"] == "sweep-exp"
    assert sweep["runs"] == 9  # parent, 3 children, 4 plain, 1 hostile
    assert sweep["last_activity"] >= sweep["creation_time"]
    assert by_id[recorded.sample.other_experiment_id]["runs"] == 1


def test_runs_page_filter_sort_offset_and_count(server: UiServer, recorded: Recorded) -> None:
    e = recorded.sample.experiment_id
    flat = get_json(server, "/api/ui/runs", experiments=e, limit=50)
    assert len(flat["runs"]) == 9
    nested = get_json(server, "/api/ui/runs", experiments=e, nested="1")
    ids = [r["run_id"] for r in nested["runs"]]
    assert recorded.sample.parent in ids and not set(recorded.sample.children) & set(ids)
    assert nested["children"][recorded.sample.parent] == 3
    assert get_json(server, "/api/ui/runs/count", experiments=e, nested="1")["count"] == 6
    found = get_json(
        server, "/api/ui/runs", experiments=e, filter="params.optimizer = 'sgd'", sort="metrics.val_loss:asc"
    )
    losses = [r["metrics"]["val_loss"] for r in found["runs"]]
    assert len(losses) == 4 and losses == sorted(losses)
    second = get_json(
        server,
        "/api/ui/runs",
        experiments=e,
        filter="params.optimizer = 'sgd'",
        sort="metrics.val_loss:asc",
        offset=2,
        limit=1,
    )
    assert second["offset"] == 2 and second["runs"][0]["run_id"] == found["runs"][2]["run_id"]


def test_a_bad_filter_answers_its_message_and_position(server: UiServer, recorded: Recorded) -> None:
    status, _, body = call(
        server, "/api/ui/runs", {"experiments": recorded.sample.experiment_id, "filter": "metrics.loss >> 1"}
    )
    problem = json.loads(body)
    assert status == 400 and problem["error_code"] == "INVALID_PARAMETER_VALUE"
    assert problem["position"] == 13 and "'>>'" in problem["message"]
    check = get_json(server, "/api/ui/filter/check", filter="params.lr = 0.1 and")
    assert check["ok"] is False and isinstance(check["position"], int)
    assert get_json(server, "/api/ui/filter/check", filter="params.lr = '0.1'") == {"ok": True}


def test_best_child_of_a_sweep_and_groups(server: UiServer, recorded: Recorded) -> None:
    e = recorded.sample.experiment_id
    data = get_json(server, "/api/ui/runs", experiments=e, nested="1", best="metrics.val_loss:asc")
    assert data["best"][recorded.sample.parent]["run_id"] == recorded.sample.best_child
    worst = get_json(server, "/api/ui/runs", experiments=e, nested="1", best="metrics.val_loss:desc")
    assert worst["best"][recorded.sample.parent]["run_id"] == recorded.sample.children[2]
    groups = get_json(server, "/api/ui/runs/groups", experiments=e, param="optimizer", metrics="val_loss")[
        "groups"
    ]
    by_value = {g["value"]: g for g in groups}
    assert by_value["adam"]["runs"] == 3 and by_value["sgd"]["runs"] == 4 and by_value[None]["runs"] == 2
    count, mean, std, low, _ = by_value["adam"]["metrics"]["val_loss"]
    finals = [1.0 / (1 + 49 * lr * 10) + 0.01 * i for i, lr in enumerate((0.1, 0.01, 0.001))]
    assert count == 3 and mean == pytest.approx(sum(finals) / 3) and low == pytest.approx(min(finals))
    assert std == pytest.approx((sum((f - mean) ** 2 for f in finals) / 3) ** 0.5)


def test_columns_that_vary(server: UiServer, recorded: Recorded) -> None:
    data = get_json(
        server,
        "/api/ui/runs/columns",
        experiments=recorded.sample.experiment_id,
        filter="params.optimizer = 'sgd'",
    )
    assert data["sampled"] == 4
    assert "params.layers" in data["varying"] and "metrics.val_loss" in data["varying"]
    assert "params.optimizer" not in data["varying"]  # 'sgd' in every sampled run


def test_run_document(server: UiServer, recorded: Recorded) -> None:
    child = recorded.sample.best_child
    doc = get_json(server, f"/api/ui/runs/{child[:10]}")
    assert doc["run"]["run_id"] == child and doc["run"]["params"]["lr"] == "0.1"
    loss = next(m for m in doc["metrics"] if m["key"] == "val_loss")
    assert (
        loss["points"] == 50 and loss["min_step"] == 49 and loss["max_step"] == 0 and loss["last_step"] == 49
    )
    assert doc["parent"]["run_id"] == recorded.sample.parent
    assert doc["code"]["dirty"] is True
    assert doc["reproduce"] == f"gitrun reproduce {child}"
    parent = get_json(server, f"/api/ui/runs/{recorded.sample.parent}")
    assert [c["run_id"] for c in parent["children"]] == recorded.sample.children
    other = get_json(server, f"/api/ui/runs/{recorded.sample.artifacts_run}")
    assert other["inputs"][0]["path"].endswith("table.csv")
    assert (
        other["inputs"][0]["digest"] == "sha256:" + hashlib.sha256(b"epoch,loss\n1,0.5\n2,0.25\n").hexdigest()
    )


def test_snapshot_diff_and_runs_diff(server: UiServer, recorded: Recorded) -> None:
    diff = get_json(server, f"/api/ui/runs/{recorded.sample.best_child}/code-diff")
    files = {f["path"]: f for f in diff["files"]}
    assert files["train.py"]["status"] == "modified"
    assert "+lr = 0.1  # uncommitted change" in files["train.py"]["lines"]
    assert files["model.py"]["status"] == "added" and files["model.py"]["added"] == 2
    same = get_json(server, "/api/ui/diff", old=recorded.sample.children[0], new=recorded.sample.children[1])
    assert same["files"] == []  # nested runs share their parent's snapshot


def test_series_are_downsampled_and_raw_is_downloadable(server: UiServer, recorded: Recorded) -> None:
    run = recorded.sample.best_child
    data = get_json(server, "/api/ui/series", runs=run, key="val_loss", buckets=5)
    (view,) = data["series"]
    assert view["total"] == 50 and view["downsampled"] is True and len(view["x"]) <= 20
    assert view["x"][0] == 0 and view["x"][-1] == 49 and view["y"][0] == 1.0
    zoom = get_json(server, "/api/ui/series", runs=run, key="val_loss", buckets=100, lo=10, hi=12)
    assert zoom["series"][0]["x"] == [10, 11, 12]
    status, headers, body = call(server, f"/api/ui/runs/{run}/metric.csv", {"key": "val_loss"})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    lines = body.decode().splitlines()
    assert lines[0] == "step,timestamp,value" and len(lines) == 51 and lines[1].startswith("0,")


def test_artifacts_previews_and_download(server: UiServer, recorded: Recorded) -> None:
    run = recorded.sample.artifacts_run
    listing = get_json(server, f"/api/ui/runs/{run}/artifacts")
    assert "plot.png" in {f["path"] for f in listing["files"]} and listing["models"] == ["model"]
    kinds = {
        path: get_json(server, f"/api/ui/runs/{run}/artifacts/preview", path=path)
        for path in ("plot.png", "train.log", "config.yaml", "table.csv", "model/MLmodel", "model/model.pkl")
    }
    assert kinds["plot.png"]["kind"] == "image"
    assert kinds["train.log"]["kind"] == "text" and HOSTILE in kinds["train.log"]["text"]
    assert kinds["config.yaml"]["language"] == "yaml"
    assert kinds["table.csv"]["rows"] == [["epoch", "loss"], ["1", "0.5"], ["2", "0.25"]]
    assert kinds["model/MLmodel"]["kind"] == "model" and "sklearn" in kinds["model/MLmodel"]["text"]
    assert kinds["model/model.pkl"]["kind"] == "binary"
    status, headers, body = call(
        server, f"/api/ui/runs/{run}/artifacts/raw", {"path": "plot.png", "download": "1"}
    )
    assert status == 200 and body == recorded.sample.png
    assert headers["content-disposition"].startswith("attachment")
    assert "sandbox" in headers["content-security-policy"]
    status, headers, _ = call(server, f"/api/ui/runs/{run}/artifacts/raw", {"path": "train.log"})
    assert headers["content-type"] == "application/octet-stream"  # never rendered by the browser


@pytest.mark.parametrize(
    "path", ["../../etc/passwd", "/etc/passwd", "model/../../x", "a\\..\\b", "nope.txt", "model"]
)
def test_artifact_paths_cannot_escape_the_run(server: UiServer, recorded: Recorded, path: str) -> None:
    for endpoint in ("preview", "raw"):
        status, _, body = call(
            server, f"/api/ui/runs/{recorded.sample.artifacts_run}/artifacts/{endpoint}", {"path": path}
        )
        assert status in (400, 404), (endpoint, path, body)
        assert b"root:" not in body


def test_compare_highlights_differences(server: UiServer, recorded: Recorded) -> None:
    runs = recorded.sample.children
    doc = get_json(server, "/api/ui/compare", runs=",".join(runs))
    params = {r["key"]: r for r in doc["params"]}
    assert params["lr"]["differs"] is True and params["lr"]["values"] == ["0.1", "0.01", "0.001"]
    assert params["optimizer"]["differs"] is False
    assert [r["run_id"] for r in doc["runs"]] == runs
    assert {r["key"] for r in doc["environment"]} >= {"python", "platform"}


def test_unknown_run_and_bad_arguments(server: UiServer) -> None:
    status, _, body = call(server, "/api/ui/runs/ffffffffffff")
    assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert call(server, "/api/ui/runs", {"experiments": "0", "offset": "x"})[0] == 400
    assert call(server, "/api/ui/runs", {"experiments": "0", "sort": "metrics.x:sideways"})[0] == 400
    assert call(server, "/api/ui/runs", {})[0] == 400


def test_read_only_by_default(server: UiServer, recorded: Recorded) -> None:
    token = get_json(server, "/api/ui/config")["csrf_token"]
    status, _, body = call(
        server,
        f"/api/ui/runs/{recorded.sample.plain[0]}/note",
        body={"text": "hello"},
        headers={"content-type": "application/json", "x-gitrun-csrf": token},
    )
    assert status == 403 and b"--writable" in body
    assert get_json(server, f"/api/ui/runs/{recorded.sample.plain[0]}")["note"] == ""


def test_writes_need_the_page_token_and_same_origin(writable_server: UiServer, recorded: Recorded) -> None:
    run = recorded.sample.plain[1]
    path = f"/api/ui/runs/{run}/note"
    config = get_json(writable_server, "/api/ui/config")
    assert config["writable"] is True
    token = config["csrf_token"]
    good = {"content-type": "application/json", "x-gitrun-csrf": token}
    refused = [
        {"content-type": "application/json"},  # no token
        {"content-type": "application/json", "x-gitrun-csrf": "guess"},
        {"content-type": "text/plain", "x-gitrun-csrf": token},  # a form post could send this
        {**good, "origin": "http://evil.example"},
        {**good, "sec-fetch-site": "cross-site"},
    ]
    for headers in refused:
        status, _, _ = call(writable_server, path, body={"text": "forged"}, headers=headers)
        assert status == 403, headers
    assert get_json(writable_server, f"/api/ui/runs/{run}")["note"] == ""
    origin = writable_server.url.rstrip("/")
    status, _, _ = call(
        writable_server, path, body={"text": "a <b>note</b>"}, headers={**good, "origin": origin}
    )
    assert status == 200
    assert get_json(writable_server, f"/api/ui/runs/{run}")["note"] == "a <b>note</b>"


def test_writable_tags_rename_delete_restore(writable_server: UiServer, recorded: Recorded) -> None:
    run = recorded.sample.plain[2]
    token = get_json(writable_server, "/api/ui/config")["csrf_token"]
    headers = {"content-type": "application/json", "x-gitrun-csrf": token}

    def post(action: str, body: dict[str, Any]) -> int:
        return call(writable_server, f"/api/ui/runs/{run}/{action}", body=body, headers=headers)[0]

    assert post("tags", {"key": "reviewed", "value": "yes"}) == 200
    assert get_json(writable_server, f"/api/ui/runs/{run}")["all_tags"]["reviewed"] == "yes"
    assert post("tags/delete", {"key": "reviewed"}) == 200
    assert "reviewed" not in get_json(writable_server, f"/api/ui/runs/{run}")["all_tags"]
    assert post("rename", {"name": "renamed"}) == 200
    assert get_json(writable_server, f"/api/ui/runs/{run}")["run"]["run_name"] == "renamed"
    assert post("rename", {"name": "  "}) == 400
    assert post("tags", {"key": "../x", "value": 1}) == 400
    assert post("delete", {}) == 200
    e = recorded.sample.experiment_id
    assert run not in {
        r["run_id"] for r in get_json(writable_server, "/api/ui/runs", experiments=e, limit=50)["runs"]
    }
    assert post("restore", {}) == 200
    assert run in {
        r["run_id"] for r in get_json(writable_server, "/api/ui/runs", experiments=e, limit=50)["runs"]
    }
