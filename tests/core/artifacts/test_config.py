"""The artifact remote's configuration: file locations, overrides, refused credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.artifacts.config import (
    ArtifactConfig,
    config_path,
    credential_options,
    load_config,
    save_remote,
)
from gitrun.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"endpoint_url": "http://x", "profile": "dev", "anon": False}, []),
        ({"key": "AKIA", "secret": "s"}, ["key", "secret"]),
        ({"aws_access_key_id": "x"}, ["aws_access_key_id"]),
        (
            {"client_kwargs": {"region_name": "eu", "aws_session_token": "t"}},
            ["client_kwargs.aws_session_token"],
        ),
        ({"token": "anon"}, []),
        ({"token": "google_default"}, []),
        ({"token": "ya29.secret"}, ["token"]),
        ({"accountKey": "x"}, ["accountKey"]),
        ({"connection_string": "AccountKey=..."}, ["connection_string"]),
        ({"sas_token": "x", "password": "y"}, ["sas_token", "password"]),
        ({"keyfile": "x"}, []),  # one word, not "key": a path option, allowed
    ],
)
def test_credential_words_are_found_in_option_names(options: dict[str, object], refused: list[str]) -> None:
    assert credential_options(options) == refused


def test_files_and_environment(tmp_path: Path) -> None:
    work, common = tmp_path / "work", tmp_path / "work" / ".git"
    common.mkdir(parents=True)
    assert config_path(str(work), str(common)) == str(work / ".gitrun.yaml")
    assert config_path(None, str(common)) == str(common / "gitrun" / "config.yaml")
    assert load_config(str(work), str(common), {}) == ArtifactConfig(None, {}, "not configured")

    path = save_remote(str(work), str(common), "s3://b/p", {"endpoint_url": "http://e"})
    assert (
        Path(path).read_text()
        == 'artifacts:\n  remote: "s3://b/p"\n  options:\n    endpoint_url: "http://e"\n'
    )
    loaded = load_config(str(work), str(common), {})
    assert (loaded.remote, dict(loaded.options), loaded.source) == (
        "s3://b/p",
        {"endpoint_url": "http://e"},
        path,
    )

    env = {"GITRUN_ARTIFACT_STORE_OPTIONS": '{"key": "from-env", "secret": "ok"}'}
    merged = load_config(str(work), str(common), env)  # credentials from the environment are fine
    assert dict(merged.options) == {"endpoint_url": "http://e", "key": "from-env", "secret": "ok"}
    env = {"GITRUN_ARTIFACT_STORE": "gs://other/x"}
    other = load_config(str(work), str(common), env)
    assert (other.remote, dict(other.options), other.source) == ("gs://other/x", {}, "GITRUN_ARTIFACT_STORE")
    with pytest.raises(InvalidParameterValue, match="JSON object"):
        load_config(str(work), str(common), {"GITRUN_ARTIFACT_STORE_OPTIONS": "[1]"})

    Path(path).write_text("other: {kept: true}\nartifacts: {remote: s3://b/p}\n")
    save_remote(str(work), str(common), None)
    assert Path(path).read_text() == "other:\n  kept: true\n"

    save_remote(None, str(common), "/srv/store")
    assert load_config(None, str(common), {}).remote == "/srv/store"


@pytest.mark.parametrize(
    "text",
    [
        "artifacts: [1]\n",
        "artifacts: {remote: s3://b, extra: 1}\n",
        "artifacts: {remote: s3://b, options: [1]}\n",
        "artifacts: {remote: ''}\n",
        "- a list\n",
        "artifacts: {remote: 's3://b', options: {secret_access_key: x}}\n",
        "{unclosed\n",
    ],
)
def test_malformed_files_are_refused_with_their_path(tmp_path: Path, text: str) -> None:
    (tmp_path / ".gitrun.yaml").write_text(text)
    with pytest.raises(InvalidParameterValue, match=r"\.gitrun\.yaml"):
        load_config(str(tmp_path), str(tmp_path / ".git"), {})
