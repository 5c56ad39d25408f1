"""Where a repository's shared artifact store is: the ``artifacts`` section of its config.

The config is a committed file, so that every clone knows where artifacts live::

    # .gitrun.yaml at the work-tree root (bare or standalone stores:
    # <git common dir>/gitrun/config.yaml)
    artifacts:
      remote: s3://bucket/prefix
      options: {endpoint_url: "http://127.0.0.1:9000"}

``GITRUN_ARTIFACT_STORE`` (a URL) and ``GITRUN_ARTIFACT_STORE_OPTIONS`` (a JSON
object) override the file.

Credentials never go into the file: an option whose name contains a credential
word (see :data:`SECRET_WORDS`; names are split into words at ``_``, ``-``, ``.``
and camelCase boundaries, nested mappings included) and a URL with a
``user:password@`` part, as the remote or as any option value (``endpoint_url``,
proxy URLs, in lists too), are refused with an error saying where credentials come
from instead (``AWS_*`` variables, ``GOOGLE_APPLICATION_CREDENTIALS``, fsspec's
``FSSPEC_<PROTOCOL>_<OPTION>`` variables or config files).  The one exception is
``token`` set to one of gcsfs's credential *modes* (:data:`TOKEN_MODES`), which
name no secret.  The environment override may carry credentials: it is not
written anywhere.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitrun.errors import InvalidParameterValue

REPO_CONFIG_FILE = ".gitrun.yaml"
"""The committed config file, at the root of a work tree."""
STORE_CONFIG_FILE = "config.yaml"
"""The config of a bare or standalone store, in ``<git common dir>/gitrun/``."""
STORE_ENV = "GITRUN_ARTIFACT_STORE"
OPTIONS_ENV = "GITRUN_ARTIFACT_STORE_OPTIONS"

SECRET_WORDS = frozenset(
    {
        "key",
        "keys",
        "secret",
        "secrets",
        "token",
        "tokens",
        "password",
        "passwd",
        "pwd",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "sas",
        "signature",
        "cookie",
        "cookies",
        "connection",  # Azure connection strings embed the account key
        # Words people (and libraries) run together: apikey, accessKey, sessiontoken...
        "apikey",
        "apikeys",
        "accesskey",
        "secretkey",
        "privatekey",
        "sessiontoken",
        "accesstoken",
        "refreshtoken",
        "authtoken",
        "idtoken",
        "sastoken",
        "clientsecret",
        "passphrase",
        "passwords",
        "pw",
        "bearer",
    }
)
"""Words that mark an option name as a credential (``key``, ``aws_secret_access_key``,
``session_token``, ``client_kwargs.aws_access_key_id``, ``account_key``...)."""
TOKEN_MODES = frozenset({"anon", "google_default", "cloud", "browser"})
"""gcsfs ``token`` values that select how to authenticate rather than carry a secret."""

CREDENTIALS_HINT = (
    "credentials never go into the repository: give them through the environment "
    "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, "
    "fsspec's FSSPEC_<PROTOCOL>_<OPTION> variables) or GITRUN_ARTIFACT_STORE_OPTIONS"
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*@")


@dataclass(frozen=True)
class ArtifactConfig:
    """The shared artifact store of a repository, if any."""

    remote: str | None = None
    """The store's URL (``s3://bucket/prefix``, ``gs://...``, a folder), or None."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """fsspec storage options for the remote (never credentials from the file)."""
    source: str = "default"
    """Where the remote was configured, for messages (a file path or a variable)."""


def config_path(work_tree: str | None, common_dir: str) -> str:
    """The config file of a repository: committed in the work tree when there is one."""
    if work_tree:
        return os.path.join(work_tree, REPO_CONFIG_FILE)
    return os.path.join(common_dir, "gitrun", STORE_CONFIG_FILE)


def _words(name: str) -> list[str]:
    return [w.lower() for part in re.split(r"[_\-.\s]+", name) for w in _WORD.findall(part)]


def credential_options(options: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The (dotted) names of options that look like credentials, or whose value is (or
    holds) a URL with a user name or password (an endpoint, a proxy)."""
    found = []
    for name, value in options.items():
        dotted = f"{prefix}{name}"
        words = set(_words(str(name)))
        if words & SECRET_WORDS and not (words == {"token"} and value in TOKEN_MODES):
            found.append(dotted)
        elif isinstance(value, Mapping):
            found += credential_options(value, f"{dotted}.")
        elif _holds_userinfo(value):
            found.append(dotted)
    return found


def _holds_userinfo(value: Any) -> bool:
    if isinstance(value, str):
        return _USERINFO.match(value.strip()) is not None
    if isinstance(value, (list, tuple)):
        return any(_holds_userinfo(v) or (isinstance(v, Mapping) and credential_options(v)) for v in value)
    return False


def check_remote(url: str, options: Mapping[str, Any], where: str) -> None:
    """Refuse a remote URL or options that carry credentials.

    Raises:
        InvalidParameterValue: a credential is named, with where it was found.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameterValue(f"{where}: artifacts.remote must be a non-empty URL string")
    if _USERINFO.match(url):
        raise InvalidParameterValue(
            f"{where}: the artifact store URL carries a user name or password; {CREDENTIALS_HINT}"
        )
    secret = credential_options(options)
    if secret:
        raise InvalidParameterValue(
            f"{where}: artifact store option(s) {', '.join(secret)} look like credentials; {CREDENTIALS_HINT}"
        )


def _load_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise InvalidParameterValue(f"cannot read {path}: {error.strerror}") from error
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidParameterValue(f"{path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidParameterValue(f"{path} must hold a mapping at the top level")
    return data


def _section(data: Mapping[str, Any], path: str) -> tuple[str | None, dict[str, Any]]:
    section = data.get("artifacts") or {}
    if not isinstance(section, dict):
        raise InvalidParameterValue(f"{path}: 'artifacts' must be a mapping")
    unknown = sorted(set(section) - {"remote", "options"})
    if unknown:
        raise InvalidParameterValue(
            f"{path}: unknown key(s) under 'artifacts': {', '.join(map(str, unknown))} "
            "(known: remote, options)"
        )
    remote = section.get("remote")
    options = section.get("options") or {}
    if not isinstance(options, dict):
        raise InvalidParameterValue(f"{path}: artifacts.options must be a mapping")
    if remote is not None:
        check_remote(remote, options, path)
    elif options:
        secret = credential_options(options)
        if secret:
            raise InvalidParameterValue(f"{path}: option(s) {', '.join(secret)}: {CREDENTIALS_HINT}")
    return remote, dict(options)


def load_config(
    work_tree: str | None, common_dir: str, environ: Mapping[str, str] | None = None
) -> ArtifactConfig:
    """The artifact store configuration of a repository, environment overrides applied.

    Raises:
        InvalidParameterValue: the file is malformed or names credentials, or
            ``GITRUN_ARTIFACT_STORE_OPTIONS`` is not a JSON object.
    """
    env = os.environ if environ is None else environ
    path = config_path(work_tree, common_dir)
    remote, options = _section(_load_yaml(path), path)
    source = path
    raw_options = env.get(OPTIONS_ENV)
    if raw_options:
        try:
            override = json.loads(raw_options)
        except ValueError:
            override = None
        if not isinstance(override, dict):
            raise InvalidParameterValue(f"{OPTIONS_ENV} must hold a JSON object of fsspec options")
    else:
        override = None
    env_remote = env.get(STORE_ENV)
    if env_remote:
        # Options from the file belong to the file's store, not to this one.
        remote, options, source = env_remote, dict(override or {}), STORE_ENV
    elif override is not None:
        options = {**options, **override}
    if remote is None:
        return ArtifactConfig(None, {}, "not configured")
    return ArtifactConfig(remote, options, source)


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


def typed_value(text: str) -> Any:
    """An option value typed on a command line, with its YAML type: ``false`` is a
    boolean (s3fs reads the string ``"false"`` as true), ``10`` an integer, ``0.5`` a
    float; anything else (``0755``, URLs, names) stays text."""
    stripped = text.strip()
    if stripped.lower() in _BOOLEANS:
        return _BOOLEANS[stripped.lower()]
    if _NUMBER.match(stripped):
        number = float(stripped)
        if "." not in stripped and "e" not in stripped.lower():
            return int(stripped)
        return number
    return text


def save_remote(
    work_tree: str | None,
    common_dir: str,
    remote: str | None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """Write (or with ``remote=None`` remove) the ``artifacts`` section; keep the rest.

    Returns:
        The path of the file written.

    Raises:
        InvalidParameterValue: the URL or options carry credentials.
    """
    path = config_path(work_tree, common_dir)
    data = _load_yaml(path)
    if remote is None:
        data.pop("artifacts", None)
    else:
        clean = dict(options or {})
        check_remote(remote, clean, "gitrun config")
        data["artifacts"] = {"remote": remote, **({"options": clean} if clean else {})}
    from gitrun.core.records import yamlfmt

    text = yamlfmt.dump(data) if data else ""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(temp, path)
    return path
