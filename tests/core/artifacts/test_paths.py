from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitrun.core.artifacts.paths import join_artifact_path, normalize_artifact_path, safe_destination
from gitrun.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("model.pkl", "model.pkl"),
        ("plots/roc.png", "plots/roc.png"),
        ("plots/", "plots"),
        ("a b/ü.txt", "a b/ü.txt"),
    ],
)
def test_valid_paths_are_canonical(path: str, expected: str) -> None:
    assert normalize_artifact_path(path) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("../secret", r"'\.\.' components"),
        ("a/../../b", r"'\.\.' components"),
        ("a/..", r"'\.\.' components"),
        ("..\\evil", "backslash"),
        ("a\\b", "backslash"),
        ("C:/Windows", "drive letter"),
        ("c:evil", "drive letter"),
        ("a//b", "empty component"),
        ("a//", "empty component"),
        ("//server/share", "absolute"),
        ("./a", r"'\.' components"),
        ("a/./b", r"'\.' components"),
        ("a\x00b", "NUL"),
        ("bad\udcff", "UTF-8"),
    ],
)
def test_bad_paths_are_refused_with_the_path_named(path: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason) as info:
        normalize_artifact_path(path)
    assert repr(path) in str(info.value)


def test_non_string_paths_are_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string"):
        normalize_artifact_path(Path("a"))  # type: ignore[arg-type]


def test_join() -> None:
    assert join_artifact_path(None, "a.txt") == "a.txt"
    assert join_artifact_path("plots/", "a.txt") == "plots/a.txt"
    with pytest.raises(InvalidParameterValue):
        join_artifact_path("../x", "a.txt")


def test_safe_destination_stays_inside(tmp_path: Path) -> None:
    assert safe_destination(tmp_path, "a/b.txt") == tmp_path / "a" / "b.txt"


def test_symlink_in_destination_cannot_be_used_to_escape(tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    outside = tmp_path / "outside"
    dst.mkdir()
    outside.mkdir()
    os.symlink(outside, dst / "link")
    with pytest.raises(InvalidParameterValue, match="outside") as info:
        safe_destination(dst, "link/payload.txt")
    assert "link/payload.txt" in str(info.value)
    os.symlink("/etc/passwd", dst / "file-link")
    with pytest.raises(InvalidParameterValue, match="outside"):
        safe_destination(dst, "file-link")


def test_symlink_inside_destination_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    assert safe_destination(tmp_path, "alias/x") == tmp_path / "alias" / "x"


def test_destination_through_symlinked_root_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "root-link")
    assert safe_destination(tmp_path / "root-link", "x") == tmp_path / "root-link" / "x"
