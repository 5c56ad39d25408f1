"""Who is calling: HTTP basic auth and bearer tokens, as the MLflow client sends them.

The MLflow client sends ``Authorization: Basic`` when ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` are set, else ``Authorization: Bearer`` with
``MLFLOW_TRACKING_TOKEN``.  Users and tokens live in a YAML file outside the
repository (``gitrun server --auth-file`` or ``GITRUN_SERVER_AUTH_FILE``)::

    users:
      alice: {password: "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>"}
      viewer: {password: "pbkdf2_sha256$...", read_only: true}
    tokens:
      ci: {token: "sha256$<hex of sha256(token)>", user: ci-bot}

Only hashes are stored (``gitrun server --hash-password`` makes them).  A password is
checked with PBKDF2 once, then remembered (as a keyed hash) for the process, so the
hundreds of requests of a training run do not each pay the key stretching.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gitrun.errors import InvalidParameterValue

AUTH_SCOPE_KEY = "gitrun.identity"
AUTH_FILE_ENV = "GITRUN_SERVER_AUTH_FILE"
PBKDF2_ITERATIONS = 260_000
_REALM = b'Basic realm="gitrun", charset="UTF-8"'


@dataclass(frozen=True)
class Identity:
    """An authenticated caller; its name is the user recorded on the runs it creates."""

    name: str
    read_only: bool = False


def hash_password(password: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def hash_token(token: str) -> str:
    return "sha256$" + hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


class Users:
    """The users and tokens of an auth file."""

    def __init__(self, users: Mapping[str, Any], tokens: Mapping[str, Any]) -> None:
        self._users = dict(users)
        self._tokens: dict[str, Identity] = {}
        for name, entry in tokens.items():
            stored = str(entry.get("token", ""))
            if not stored.startswith("sha256$"):
                raise InvalidParameterValue(f"token {name!r}: store its hash (sha256$<hex>), not the token")
            user = str(entry.get("user") or name)
            self._tokens[stored.split("$", 1)[1]] = Identity(user, bool(entry.get("read_only", False)))
        for name, entry in self._users.items():
            if not str(entry.get("password", "")).startswith("pbkdf2_sha256$"):
                raise InvalidParameterValue(
                    f"user {name!r}: the password must be a hash from `gitrun server --hash-password`"
                )
        self._key = secrets.token_bytes(32)
        self._known: dict[bytes, Identity] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str) -> Users:
        """Raises InvalidParameterValue for a missing or malformed file."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidParameterValue(f"cannot read the auth file {path}: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidParameterValue(f"the auth file {path} must hold a mapping (users:, tokens:)")
        users, tokens = data.get("users") or {}, data.get("tokens") or {}
        if not isinstance(users, dict) or not isinstance(tokens, dict):
            raise InvalidParameterValue(f"the auth file {path}: users and tokens must be mappings")
        if not all(isinstance(e, dict) for e in [*users.values(), *tokens.values()]):
            raise InvalidParameterValue(f"the auth file {path}: every user and token must be a mapping")
        return cls(users, tokens)

    def basic(self, name: str, password: str) -> Identity | None:
        key = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        entry = self._users.get(name)
        if entry is None or not _check_password(password, str(entry["password"])):
            return None
        found = Identity(name, bool(entry.get("read_only", False)))
        with self._lock:
            if len(self._known) < 10_000:
                self._known[key] = found
        return found

    def bearer(self, token: str) -> Identity | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        for stored, identity in self._tokens.items():
            if hmac.compare_digest(stored, digest):
                return identity
        return None

    def identify(self, header: str) -> Identity | None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                name, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.basic(name, password) if sep else None
        if scheme.lower() == "bearer":
            return self.bearer(value.strip())
        return None


def auth_file_from_env() -> str | None:
    return os.environ.get(AUTH_FILE_ENV) or None


class AuthMiddleware:
    """Every request but ``/health`` must authenticate; the identity goes in the scope."""

    OPEN_PATHS = frozenset({"/health"})

    def __init__(self, app: ASGIApp, *, users: Users) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization")
        identity = self.users.identify(header) if header else None
        if identity is None:
            body = (
                b'{"error_code":"UNAUTHENTICATED","message":"You are not authenticated. Set '
                b'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN."}'
            )
            headers = [(b"content-type", b"application/json"), (b"www-authenticate", _REALM)]
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        scope[AUTH_SCOPE_KEY] = identity
        await self.app(scope, receive, send)
