"""The page's files: all shipped in the package, nothing fetched from elsewhere, no
inline script, the vendored library unchanged (there is no build step to check)."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from pathlib import Path

import tomllib

STATIC = Path(__file__).resolve().parents[2] / "gitrun" / "server" / "ui" / "static"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file())


def test_every_static_file_is_package_data() -> None:
    patterns = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]["gitrun"]
    package = STATIC.parents[2]
    for path in static_files():
        relative = path.relative_to(package).as_posix()
        assert any(
            fnmatch.fnmatchcase(relative, p) and relative.count("/") == p.count("/") for p in patterns
        ), relative


def test_nothing_is_loaded_from_another_origin() -> None:
    for path in static_files():
        if path.suffix not in (".html", ".css", ".js") or "vendor" in path.parts:
            continue
        text = path.read_text()
        assert not re.search(r"https?://", text), path
        assert "@import" not in text and "innerHTML" not in text and "eval(" not in text, path


def test_the_page_has_no_inline_script_or_style() -> None:
    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/static/js/app.js">']
    assert (
        "<style" not in html
        and "style=" not in html
        and " on" not in html.replace("\n", " ").split("<body>")[0]
    )


def test_vendored_uplot_is_the_published_file() -> None:
    readme = (STATIC / "vendor" / "uplot" / "README").read_text()
    for name in ("uPlot.esm.js", "uPlot.min.css"):
        expected = re.search(rf"{re.escape(name)}\s+sha256 ([0-9a-f]{{64}})", readme)
        assert expected is not None, name
        assert hashlib.sha256(
            (STATIC / "vendor" / "uplot" / name).read_bytes()
        ).hexdigest() == expected.group(1)
    assert "MIT" in (STATIC / "vendor" / "uplot" / "LICENSE").read_text()
