"""The UI in a real headless Chromium (Debian's, through Playwright): every flow a
person uses, checked on what the page shows.  Screenshots of the main pages go to
``$GITRUN_UI_SCREENSHOTS`` (default: a temporary folder); docs/images has a few."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.chromium import ARGS, CHROMIUM
from tests.server.conftest import Recorded, UiServer, child_env, new_repo
from tests.server.sample import HOSTILE

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("GITRUN_UI_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.problems = []  # console errors and CSP violations: none is expected
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()
    # A refused request is logged by the browser; the tests that make one expect it.
    assert [p for p in page.problems if "status of 400" not in p] == []


def wait_js(page: Any, expression: str, timeout: float = 20.0) -> Any:
    """Poll a JavaScript expression until it is true (``wait_for_function`` evaluates
    strings with ``eval``, which the page's Content-Security-Policy rightly refuses)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def rows(page: Any) -> list[str]:
    return page.eval_on_selector_all("#runs tbody tr[data-run]", "els => els.map(e => e.dataset.run)")


def open_table(page: Any, server: UiServer, recorded: Recorded, query: str = "") -> None:
    page.goto(f"{server.url}#/runs?e={recorded.sample.experiment_id}{query}")
    page.wait_for_selector("#runs tbody tr[data-run]")


def painted(page: Any, selector: str) -> int:
    """How many pixels of the canvas under ``selector`` are not blank."""
    return page.eval_on_selector(
        selector,
        """el => {
             const c = el.querySelector('canvas');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""",
    )


def test_experiments_then_runs_table(page: Any, server: UiServer, recorded: Recorded, shots: Path) -> None:
    page.goto(server.url)
    row = page.locator(f"#experiments tr[data-experiment='{recorded.sample.experiment_id}']")
    assert "sweep-exp" in row.inner_text() and "\t9\t" in row.inner_text()
    page.screenshot(path=str(shots / "experiments.png"))
    row.get_by_role("link", name="sweep-exp").click()
    page.wait_for_selector("#runs tbody tr[data-run]")
    assert page.inner_text("#run-count") == "6 top-level runs"
    assert set(rows(page)) == {recorded.sample.parent, *recorded.sample.plain, recorded.sample.hostile}
    headers = page.eval_on_selector_all("#runs thead th", "els => els.map(e => e.textContent)")
    cells = page.locator(f"tr[data-run='{recorded.sample.plain[0]}'] td").all_inner_texts()
    assert len(cells) == len(headers)
    column = dict(zip(headers, cells))
    assert column["Name"] == "plain-0" and column["Status"] == "FINISHED" and column["User"]
    assert column["lr"] == "0.05" and column["val_loss"] == "0.022371"  # exp(-19 / 5)
    assert column["Commit"].endswith("*")  # uncommitted changes were recorded
    page.screenshot(path=str(shots / "runs.png"))


def test_filter_and_the_inline_error_of_a_bad_filter(page: Any, server: UiServer, recorded: Recorded) -> None:
    open_table(page, server, recorded)
    page.fill("#filter", "params.optimizer = 'sgd' and metrics.val_loss < 0.08")
    page.press("#filter", "Enter")
    wait_js(page, "document.querySelector('#run-count')?.textContent.startsWith('3 ')")
    assert len(rows(page)) == 3 and recorded.sample.plain[3] not in rows(page)
    page.fill("#filter", "metrics.val_loss >> 1")
    page.wait_for_selector("#filter-problem .filter-message")
    assert "Invalid comparator '>>'" in page.inner_text("#filter-problem .filter-message")
    caret = page.inner_text("#filter-problem .filter-caret")
    assert caret.splitlines()[1].index("^") == 17 and "position 17" in caret
    assert "invalid" in page.get_attribute("#filter", "class")
    # Applying it anyway shows the same error, nothing else.
    page.press("#filter", "Enter")
    page.wait_for_selector("#filter-problem .filter-caret")
    assert page.locator("#runs").count() == 0


def test_sort_by_a_metric_column(page: Any, server: UiServer, recorded: Recorded) -> None:
    open_table(page, server, recorded, "&f=" + "params.optimizer%20%3D%20'sgd'")
    page.click("th[data-sort='metrics.val_loss']")
    wait_js(page, "location.hash.includes('metrics.val_loss%3Adesc')")
    page.wait_for_selector("th.sorted[data-sort='metrics.val_loss']")
    page.wait_for_selector("#runs tbody tr[data-run]")
    down = rows(page)
    page.click("th[data-sort='metrics.val_loss']")
    wait_js(page, "location.hash.includes('metrics.val_loss%3Aasc')")
    page.wait_for_selector("#runs tbody tr[data-run]")
    up = rows(page)
    # plain-3 learns slowest (largest final loss), plain-0 fastest.
    assert down[0] == recorded.sample.plain[3] and up[0] == recorded.sample.plain[0]
    assert up == list(reversed(down))


def test_expand_a_sweep_select_three_and_compare(
    page: Any, server: UiServer, recorded: Recorded, shots: Path
) -> None:
    open_table(page, server, recorded, "&best=metrics.val_loss:asc")
    parent = page.locator(f"tr[data-run='{recorded.sample.parent}']")
    assert "best: trial-0" in parent.inner_text()
    parent.locator("button.toggle").click()
    page.wait_for_selector("#runs tr.child")
    children = page.eval_on_selector_all("#runs tr.child", "els => els.map(e => e.dataset.run)")
    assert sorted(children) == sorted(recorded.sample.children)
    for run in recorded.sample.children:
        page.locator(f"tr[data-run='{run}'] input[type=checkbox]").check()
    assert page.inner_text("#compare-selected") == "Compare 3"
    page.click("#compare-selected")
    page.wait_for_selector("#compare-params tr.differs[data-key='lr']")
    lr = page.locator("#compare-params tr.differs[data-key='lr']")
    assert lr.inner_text().split("\t")[1:] == ["0.1", "0.01", "0.001"]
    background = lr.locator("td").first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")  # highlighted
    assert page.locator("#compare-params-same tr[data-key='optimizer']").count() == 1  # folded
    page.wait_for_selector(".chart[data-key='val_loss'][data-points='150']")
    assert painted(page, ".chart[data-key='val_loss']") > 500
    assert page.get_attribute("#parallel canvas", "data-lines") == "3"
    assert page.get_attribute("#scatter canvas", "data-points") == "3"
    page.wait_for_selector("#code-diff p")
    assert "identical" in page.inner_text("#code-diff")  # nested runs share their parent's code
    page.screenshot(path=str(shots / "compare.png"), full_page=True)


def test_code_diff_between_two_runs(page: Any, server: UiServer, recorded: Recorded) -> None:
    page.goto(f"{server.url}#/compare?runs={recorded.sample.best_child},{recorded.sample.artifacts_run}")
    page.wait_for_selector("#code-diff .diff-file[data-path='train.py']")
    text = page.inner_text("#code-diff .diff-file[data-path='train.py']")
    assert "-lr = 0.1  # uncommitted change" in text and "+lr = 0.2  # tuned later" in text
    assert page.locator("#code-diff .line.add").count() >= 1
    assert page.locator("#compare-params tr.differs[data-key='lr']").count() == 1


def test_run_page_chart_points_and_log_scale(
    page: Any, server: UiServer, recorded: Recorded, shots: Path
) -> None:
    open_table(page, server, recorded, "&flat=1")
    page.locator(f"tr[data-run='{recorded.sample.best_child}'] td.name a").click()
    page.wait_for_selector("#metrics")
    loss = page.locator("#metrics tr", has_text="val_loss").inner_text().split("\t")
    assert loss[1] == "0.02" and loss[3] == "0.02 (49)" and loss[4] == "1 (0)" and loss[5] == "50"
    page.screenshot(path=str(shots / "run-overview.png"))
    page.click("#tab-charts")
    chart = ".chart[data-key='val_loss']"
    page.wait_for_selector(f"{chart}[data-points='50']")
    assert "50 points" in page.inner_text(f"{chart} .chart-info")
    assert painted(page, chart) > 300
    page.check(".log-scale")
    page.wait_for_selector(f"{chart}[data-log='1'][data-points='50']")
    assert painted(page, chart) > 300
    page.screenshot(path=str(shots / "run-charts.png"))
    # Drag to zoom: the points of the selected range are fetched; double-click resets.
    box = page.locator(f"{chart} .u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    page.mouse.up()
    page.wait_for_selector(f"{chart}[data-zoomed='1']")
    zoomed = int(page.get_attribute(chart, "data-points"))
    assert 5 < zoomed < 30
    page.dblclick(f"{chart} .u-over")
    page.wait_for_selector(f"{chart}[data-zoomed='0'][data-points='50']")
    page.select_option(".x-axis", "relative")
    page.wait_for_selector(f"{chart}[data-x='relative']")


def test_run_page_code_and_reproduce_line(
    page: Any, server: UiServer, recorded: Recorded, shots: Path
) -> None:
    page.goto(f"{server.url}#/run/{recorded.sample.best_child}?tab=code")
    page.wait_for_selector("#snapshot-diff .diff-file[data-path='train.py']")
    assert "+lr = 0.1  # uncommitted change" in page.inner_text("#snapshot-diff")
    assert page.locator("#snapshot-diff .diff-file[data-path='train.py'] .tok-comment").count() == 1
    assert page.inner_text("#reproduce-line") == f"gitrun reproduce {recorded.sample.best_child}"
    assert page.locator("#packages tbody tr").count() > 10
    page.screenshot(path=str(shots / "run-code.png"))


def test_download_an_artifact_and_previews(
    page: Any, server: UiServer, recorded: Recorded, shots: Path
) -> None:
    page.goto(f"{server.url}#/run/{recorded.sample.artifacts_run}?tab=artifacts")
    page.wait_for_selector("#preview pre.code")  # the model's MLmodel is shown first
    assert "sklearn" in page.inner_text("#preview")
    page.click("#artifact-files a[data-path='plot.png']")
    page.wait_for_selector("#preview img.artifact-image")
    assert page.eval_on_selector("#preview img", "img => img.complete && img.naturalWidth") == 4
    with page.expect_download() as info:
        page.click("#download")
    assert Path(info.value.path()).read_bytes() == recorded.sample.png
    page.click("#artifact-files a[data-path='table.csv']")
    page.wait_for_selector("#preview table")
    assert page.locator("#preview tbody tr").count() == 2
    with page.expect_download() as info:
        page.click("#download")
    assert Path(info.value.path()).read_bytes() == b"epoch,loss\n1,0.5\n2,0.25\n"
    page.click("#artifact-files a[data-path='train.log']")
    wait_js(page, "document.querySelector('#preview').textContent.includes('epoch 2')")
    page.screenshot(path=str(shots / "run-artifacts.png"))


def test_injected_script_is_shown_as_text(page: Any, server: UiServer, recorded: Recorded) -> None:
    open_table(page, server, recorded)
    hostile = page.locator(f"tr[data-run='{recorded.sample.hostile}']")
    assert HOSTILE in hostile.inner_text()
    page.goto(f"{server.url}#/run/{recorded.sample.hostile}")
    page.wait_for_selector("#params")
    assert page.inner_text("#run-name") == HOSTILE
    assert HOSTILE in page.inner_text("#params")
    page.goto(f"{server.url}#/run/{recorded.sample.artifacts_run}?tab=artifacts")
    page.click("#artifact-files a[data-path='train.log']")
    wait_js(page, "document.querySelector('#preview').textContent.includes('onerror')")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0


def test_a_live_run_chart_grows(page: Any, server: UiServer, recorded: Recorded, tmp_path: Path) -> None:
    script = tmp_path / "live.py"
    script.write_text(
        "import sys, time, gitrun\n"
        f"gitrun.set_tracking_uri({str(recorded.repo)!r})\n"
        # In the other experiment: the sweep's counts stay what the other tests expect.
        f"gitrun.set_experiment(experiment_id={recorded.sample.other_experiment_id!r})\n"
        "with gitrun.start_run(run_name='live') as run:\n"
        "    gitrun.log_metric('loss', 1.0, step=0)\n"
        "    gitrun.flush()\n"
        "    print(run.info.run_id, flush=True)\n"
        "    for step in range(1, 400):\n"
        "        gitrun.log_metric('loss', 1.0 / (1 + step), step=step)\n"
        "        time.sleep(0.1)\n"
        "        if sys.stdin.readable() and step % 50 == 0 and open(sys.argv[1]).read() == 'stop': break\n"
    )
    stop = tmp_path / "stop"
    stop.write_text("")
    child = subprocess.Popen(
        [sys.executable, str(script), str(stop)],
        cwd=recorded.repo,
        env=child_env(recorded.home, GITRUN_FLUSH_INTERVAL="0.3"),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        run_id = child.stdout.readline().strip()
        page.goto(f"{server.url}#/run/{run_id}?tab=charts")
        chart = ".chart[data-key='loss']"
        page.wait_for_selector(f"{chart}[data-points]")
        first = int(page.get_attribute(chart, "data-points"))
        wait_js(page, f'Number(document.querySelector("{chart}").dataset.points) > {first + 5}', timeout=20)
        second = int(page.get_attribute(chart, "data-points"))
        wait_js(page, f'Number(document.querySelector("{chart}").dataset.points) > {second}', timeout=20)
        assert "RUNNING" in page.inner_text(".run-header")
    finally:
        stop.write_text("stop")
        child.wait(60)


def test_writable_note_through_the_page(page: Any, writable_server: UiServer, recorded: Recorded) -> None:
    run = recorded.sample.plain[3]
    page.goto(f"{writable_server.url}#/run/{run}")
    page.wait_for_selector("#note")
    page.fill("#note", "looks good <b>really</b>")
    page.click("#save-note")
    wait_js(page, "document.querySelector('#save-note').nextSibling.textContent === 'saved'")
    page.reload()
    page.wait_for_selector("#note")
    assert page.input_value("#note") == "looks good <b>really</b>"


def test_a_fresh_clone_says_to_fetch(page: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    repo = new_repo(tmp_path, home)
    ui = UiServer(repo, home)
    try:
        page.goto(ui.url)
        page.wait_for_selector("pre.command")
        assert "gitrun fetch" in page.inner_text("main")
    finally:
        ui.stop()
    # Looking created nothing: no records ref, no gitrun folder content beyond what git has.
    refs = subprocess.run(
        ["git", "for-each-ref"], cwd=repo, env=child_env(home), capture_output=True, text=True
    ).stdout
    assert "gitrun" not in refs


def test_writable_delete_then_restore_from_the_deleted_view(
    page: Any, writable_server: UiServer, recorded: Recorded
) -> None:
    run = recorded.sample.plain[0]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{writable_server.url}#/run/{run}")
    page.click("#delete")
    page.wait_for_selector("#restore")
    page.goto(f"{writable_server.url}#/runs?e={recorded.sample.experiment_id}&v=deleted")
    page.wait_for_selector(f"#runs tr[data-run='{run}']")
    assert rows(page) == [run] and page.input_value("#view") == "deleted"
    page.locator(f"tr[data-run='{run}'] td.name a").click()
    page.click("#restore")
    page.wait_for_selector("#delete")
    page.goto(f"{writable_server.url}#/runs?e={recorded.sample.experiment_id}&flat=1")
    page.wait_for_selector(f"#runs tr[data-run='{run}']")


def test_column_chooser_and_grouping(page: Any, server: UiServer, recorded: Recorded) -> None:
    open_table(page, server, recorded)
    headers = page.eval_on_selector_all("#runs thead th", "els => els.map(e => e.textContent)")
    assert "val_loss" in headers and "lr" in headers and "mlflow.user" not in headers  # varying only
    page.click("#columns summary")
    page.uncheck("#columns input[data-column='metrics.val_loss']")
    page.check("#columns input[data-column='tags.mlflow.user']")
    headers = page.eval_on_selector_all("#runs thead th", "els => els.map(e => e.textContent)")
    assert "val_loss" not in headers and "mlflow.user" in headers
    page.reload()  # the choice is remembered
    page.wait_for_selector("#runs tbody tr[data-run]")
    assert "mlflow.user" in page.eval_on_selector_all("#runs thead th", "els => els.map(e => e.textContent)")
    page.evaluate("() => localStorage.clear()")
    page.select_option("#group-by", "optimizer")
    page.wait_for_selector("#groups tbody tr")
    groups = {r.split("\t")[0]: r.split("\t") for r in page.locator("#groups tbody tr").all_inner_texts()}
    assert groups["sgd"][1] == "4" and groups["adam"][1] == "3" and groups["(not set)"][1] == "2"
    page.locator("#groups a", has_text="sgd").click()
    page.wait_for_selector("#runs tbody tr[data-run]")
    assert page.input_value("#filter") == "params.`optimizer` = 'sgd'" and len(rows(page)) == 4
