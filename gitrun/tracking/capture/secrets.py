"""What counts as a secret: file names, file contents and command-line arguments.

A run's code snapshot and record are pushed with every ``gitrun push`` (and by the
hooks), so nothing that looks like a credential may enter them.  Three rules, all
here and only here:

* **File names** (:func:`secret_reason`): an untracked file is left out of the
  snapshot when its base name, compared case-insensitively, is a known credential
  file (``kaggle.json``, ``.pgpass``, ``terraform.tfstate``, ``ID_RSA``...), has a
  key or environment-file extension (``*.pem``, ``*.key``, ``*.tfvars``,
  ``prod.env``...), has a secret word in it (``token.txt``, ``apikey.txt``,
  ``service-account.json``, ``client_secret.json``; ``key`` only for data files:
  ``gcp-key.json`` but not ``keys.py``), or lies in a credential folder (``.ssh/``,
  ``.aws/``, ``.kube/``, ``.gnupg/``, ``.docker/``, ``.config/gcloud/``,
  ``secrets/``, ``.huggingface/``...).  A ``.gitrunignore`` file at the work tree's
  root (gitignore syntax) excludes more (:func:`gitrunignored`).
* **File contents** (:func:`content_secret_reason`): an untracked file whose bytes
  hold a private-key header or a well-known token shape (AWS, GitHub, GitLab, Slack,
  Hugging Face, OpenAI, Anthropic, Stripe, Google, npm, PyPI, Databricks, Azure) is
  left out too.
* **Arguments** (:func:`redact_argv`): the value of an option whose name, split into
  words at ``-``, ``_`` and ``.``, holds a secret word (:data:`SECRET_WORDS`:
  ``--api-key``, ``--hf_token``, ``--db-password``...) is recorded as
  ``<redacted>``, in both forms ``--x=v`` and ``--x v``; so are ``NAME=value``
  arguments with such a name (``API_KEY=...``, ``db.password=...``) and any argument
  holding a token shape.

Tracked files are always snapshotted (they are in the repository already).
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
from collections.abc import Iterable, Sequence

REDACTED = "<redacted>"

SECRET_NAMES = frozenset(
    {
        ".env",
        ".envrc",
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".my.cnf",
        ".git-credentials",
        ".dockercfg",
        ".boto",
        ".s3cfg",
        ".htpasswd",
        ".vault-token",
        ".terraformrc",
        "terraform.rc",
        "kaggle.json",
        "credentials",
        "authinfo",
        ".authinfo",
        "authinfo.gpg",
        ".authinfo.gpg",
    }
)
"""Base names of credential files (compared in lower case)."""

SECRET_GLOBS = (
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.kdbx",
    "*.ovpn",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    "*.tfvars.json",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*_history",
)
"""Base-name patterns of credential files (compared in lower case)."""

SECRET_DIRS = frozenset(
    {
        ".ssh",
        ".aws",
        ".azure",
        ".kube",
        ".gnupg",
        ".docker",
        ".gcloud",
        ".huggingface",
        ".password-store",
        ".credentials",
        "credentials",
        "secrets",
        ".secrets",
        "secret",
        ".secret",
    }
)
"""Folders whose whole content is credentials (any component of the path, lower case)."""

SECRET_PATHS = (
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    "huggingface/token",
    "wandb/settings",
    ".local/share/keyrings",
)
"""Paths (lower case) of credential files or folders, wherever they appear in a path."""

SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "pwd",
        "pw",
        "credential",
        "credentials",
        "auth",
        "privatekey",
    }
)
"""Words that make an option or a ``NAME=value`` argument secret."""

_FILE_WORDS = SECRET_WORDS - {"key", "pwd", "pw", "auth"}
"""Words that make a file name secret whatever its extension."""
_DATA_EXTENSIONS = frozenset({"", "json", "txt", "yaml", "yml", "cfg", "ini", "conf", "toml", "env", "der"})
"""Extensions for which ``key`` in the name marks a credential (not ``keys.py``)."""
_FILE_PHRASES = (("api", "key"), ("private", "key"), ("access", "key"), ("service", "account"))

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("a private key", rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        (
            "an AWS access key",
            rb"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[A-Z0-9]{16}(?![A-Z0-9])",
        ),
        ("an AWS secret key", rb"(?i:aws_secret_access_key)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40}"),
        ("a GitHub token", rb"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
        ("a GitLab token", rb"\bglpat-[A-Za-z0-9_\-]{20,}"),
        ("a Slack token", rb"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("a Slack webhook", rb"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
        ("a Hugging Face token", rb"\bhf_[A-Za-z0-9]{30,}"),
        ("an Anthropic key", rb"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
        ("an OpenAI key", rb"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
        ("a Stripe key", rb"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("a Google API key", rb"\bAIza[0-9A-Za-z_\-]{35}"),
        ("a Google OAuth secret", rb"\bGOCSPX-[A-Za-z0-9_\-]{20,}"),
        ("an npm token", rb"\bnpm_[A-Za-z0-9]{36}"),
        ("a PyPI token", rb"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{20,}"),
        ("a Databricks token", rb"\bdapi[0-9a-f]{32}"),
        ("an Azure account key", rb"AccountKey=[A-Za-z0-9+/=]{40,}"),
    )
)
"""Shapes of credentials in file contents and arguments."""

MAX_SCANNED_BYTES = 64 * 2**20
"""Contents longer than this are scanned in their first and last 32 MiB only."""


def _words(name: str) -> list[str]:
    return [w.lower() for part in re.split(r"[_\-.\s]+", name) for w in _WORD.findall(part)]


def _has_phrase(words: Sequence[str]) -> bool:
    pairs = set(itertools.pairwise(words))
    return any(phrase in pairs for phrase in _FILE_PHRASES)


def secret_reason(path: str) -> str | None:
    """Why an (untracked) file must stay out of a snapshot, from its path; None if it may go in.

    Args:
        path: a work-tree-relative path with ``/`` between folders.
    """
    lowered = path.replace(os.sep, "/").lower()
    parts = lowered.split("/")
    name = parts[-1]
    folders = parts[:-1]
    for folder in folders:
        if folder in SECRET_DIRS:
            return f"in a credentials folder ({folder}/)"
    wrapped = "/" + lowered
    for fragment in SECRET_PATHS:
        if wrapped.endswith("/" + fragment) or f"/{fragment}/" in wrapped:
            return f"credentials path ({fragment})"
    if name in SECRET_NAMES or any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_GLOBS):
        return "name looks like a secret"
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    words = _words(stem)
    if any(w in _FILE_WORDS for w in words) or _has_phrase(words):
        return "name looks like a secret"
    if extension in _DATA_EXTENSIONS and ("key" in words or "keys" in words):
        return "name looks like a secret"
    return None


def content_secret_reason(data: bytes) -> str | None:
    """Why file contents must stay out of a snapshot (a key or token shape); None if fine."""
    if len(data) > MAX_SCANNED_BYTES:
        half = MAX_SCANNED_BYTES // 2
        data = data[:half] + b"\n" + data[-half:]
    for name, pattern in TOKEN_PATTERNS:
        if pattern.search(data) is not None:
            return f"content holds {name}"
    return None


def is_secret_name(name: str) -> bool:
    """Whether an option, variable or key name holds a secret word (:data:`SECRET_WORDS`)."""
    words = _words(name)
    return any(w in SECRET_WORDS for w in words) or _has_phrase(words)


def _holds_token(value: str) -> bool:
    data = value.encode("utf-8", "surrogateescape")
    return any(pattern.search(data) is not None for _, pattern in TOKEN_PATTERNS)


_ASSIGNMENT = re.compile(r"^([+~]*)([A-Za-z_][\w.\-]*)=(.*)$", re.DOTALL)


def redact_argv(argv: Iterable[str]) -> list[str]:
    """``argv`` with the values of secret-looking arguments replaced by ``<redacted>``."""
    out: list[str] = []
    redact_next = False
    for arg in argv:
        if redact_next:
            redact_next = False
            if not arg.startswith("-"):
                out.append(REDACTED)
                continue
        if arg.startswith("-") and len(arg) > 1 and arg != "--":
            name, sep, value = arg.lstrip("-").partition("=")
            if is_secret_name(name):
                if sep:
                    out.append(f"{arg[: len(arg) - len(value)]}{REDACTED}")
                else:
                    out.append(arg)
                    redact_next = True
                continue
        else:
            match = _ASSIGNMENT.match(arg)
            if match is not None and is_secret_name(match.group(2)):
                out.append(f"{match.group(1)}{match.group(2)}={REDACTED}")
                continue
        out.append(REDACTED if _holds_token(arg) else arg)
    return out


def gitrunignored(work_tree: str, paths: Sequence[str]) -> set[str]:
    """The ``paths`` (work-tree-relative, untracked) that ``.gitrunignore`` at the work
    tree's root excludes, with git's own gitignore matching."""
    ignore_file = os.path.join(work_tree, ".gitrunignore")
    if not paths or not os.path.isfile(ignore_file):
        return set()
    from gitrun.core.git.cli import run_git
    from gitrun.errors import GitCommandError

    data = b"\0".join(p.encode("utf-8", "surrogateescape") for p in paths) + b"\0"
    try:
        # Only .gitrunignore as the exclude source: the paths are untracked and not
        # ignored already (git status listed them), so a match is .gitrunignore's.
        out = run_git(
            [
                "-c",
                f"core.excludesFile={ignore_file}",
                "check-ignore",
                "--no-index",
                "--stdin",
                "-z",
            ],
            cwd=work_tree,
            input_bytes=data,
            check=False,
        )
    except GitCommandError:
        return set()
    return {item.decode("utf-8", "surrogateescape") for item in out.split(b"\0") if item}


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def snapshot_summary(root: str, included: Sequence[str], skipped: Sequence[dict[str, str]]) -> str:
    """One line for stderr at run start: the untracked files a snapshot took, and the
    files it left out (they would travel with ``gitrun push`` otherwise)."""
    from gitrun.core.records.text import printable

    def names(paths: Sequence[str]) -> str:
        shown = ", ".join(printable(p) for p in paths[:5])
        return shown + (f", ... ({len(paths) - 5} more)" if len(paths) > 5 else "")

    parts = []
    if included:
        total = sum(_size(os.path.join(root, p)) for p in included)
        parts.append(
            f"snapshot includes {len(included)} untracked file(s), {_human(total)}: {names(included)}"
        )
    if skipped:
        secret = [s["path"] for s in skipped if "larger than" not in s.get("reason", "")]
        large = [s["path"] for s in skipped if "larger than" in s.get("reason", "")]
        if secret:
            parts.append(f"left out as secret or ignored: {names(secret)}")
        if large:
            parts.append(f"left out as too large: {names(large)}")
    return "gitrun: " + "; ".join(parts) + " (exclude more with .gitrunignore)"
