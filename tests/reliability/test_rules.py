"""The rules themselves, case by case: what is a secret (names, contents, arguments),
how text that is not UTF-8 is recorded and shown, how config values are typed, which
package lines a checkout accepts."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitrun.core.artifacts.config import typed_value
from gitrun.core.records import journal as jnl
from gitrun.core.records.text import (
    decode_captured,
    encode_captured,
    escape_bytes,
    printable,
    readable,
    refuse_surrogates,
    shell_join,
    unescape_bytes,
)
from gitrun.errors import InvalidParameterValue
from gitrun.tracking.capture.secrets import (
    REDACTED,
    content_secret_reason,
    is_secret_name,
    redact_argv,
    secret_reason,
)
from gitrun.tracking.reproduce import requirement_lines

SECRET_PATHS = [
    "kaggle.json",
    "KAGGLE.JSON",
    "service-account.json",
    "service_account_prod.json",
    "gcp-key.json",
    "my_api_key.yaml",
    ".config/gcloud/application_default_credentials.json",
    ".config/gcloud/configurations/config_default",
    "home/.config/gh/hosts.yml",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".netrc",
    ".kube/config",
    ".docker/config.json",
    "terraform.tfstate",
    "infra/terraform.tfstate.backup",
    "prod.tfvars",
    "x.tfvars.json",
    ".huggingface/token",
    ".cache/huggingface/token",
    ".envrc",
    ".env",
    ".env.local",
    "prod.env",
    ".ENV",
    "ID_RSA",
    "id_rsa.pub",
    "id_dsa",
    "keys/id_ed25519",
    "token.txt",
    "hf-token",
    "apikey.txt",
    "secrets/db.txt",
    "config/secrets/x.yaml",
    "wandb/settings",
    ".ssh/known_hosts",
    ".aws/config",
    ".gnupg/pubring.kbx",
    "server.PEM",
    "tls.key",
    "cert.p12",
    "client_secret.json",
    "db_password.txt",
    "credentials",
    "credentials.json",
    ".bash_history",
    "vault.kdbx",
    "private_key.der",
]
ORDINARY_PATHS = [
    "train.py",
    "data.csv",
    "README.md",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "keys.py",
    "key_metrics.py",
    "monkey.json",
    "keyboard.txt",
    "model.safetensors",
    "vocab.txt",
    "notebooks/secretary_problem.ipynb",
    "tokens_per_second.csv",
    "config.yaml",
    "environment.yml",
    "src/auth_utils.py",
]


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_secret_paths_are_recognised(path: str) -> None:
    assert secret_reason(path) is not None


@pytest.mark.parametrize("path", ORDINARY_PATHS)
def test_ordinary_paths_are_not_secret(path: str) -> None:
    assert secret_reason(path) is None


SECRET_CONTENTS = [
    b"-----BEGIN RSA PRIVATE KEY-----\nMIIE",
    b"-----BEGIN PRIVATE KEY-----",
    b"-----BEGIN OPENSSH PRIVATE KEY-----",
    b"-----BEGIN EC PRIVATE KEY-----",
    b"-----BEGIN PGP PRIVATE KEY BLOCK-----",
    b"id = AKIAIOSFODNN7EXAMPLE",
    b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    b"ghp_" + b"x" * 36,
    b"github_pat_" + b"A1" * 20,
    b"glpat-" + b"a" * 20,
    b"xoxb-1234567890-abcdefghij",
    b"https://hooks.slack.com/services/T0000/B0000/XXXXXXXX",
    b"hf_" + b"a" * 34,
    b"sk-proj-" + b"a" * 40,
    b"sk-" + b"a" * 48,
    b"sk-ant-api03-" + b"a" * 40,
    b"sk_live_" + b"a" * 24,
    b"rk_test_" + b"a" * 24,
    b"AIza" + b"a" * 35,
    b"GOCSPX-" + b"a" * 28,
    b"npm_" + b"a" * 36,
    b"pypi-AgEIcHlwaS5vcmc" + b"a" * 40,
    b"dapi" + b"0123456789abcdef" * 2,
    b"DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + b"a" * 64,
]
ORDINARY_CONTENTS = [
    b"import torch\nprint('hello')\n",
    b"sk-learn is not a key",
    b"the key to success",
    b"hf_hub_download(repo_id='bert')",
    b"AKIA is a prefix",
    b"-----BEGIN CERTIFICATE-----\nMIID",
    b"-----BEGIN PUBLIC KEY-----",
    bytes(range(256)) * 4,
]


@pytest.mark.parametrize("data", SECRET_CONTENTS)
def test_token_shaped_contents_are_recognised(data: bytes) -> None:
    assert content_secret_reason(b"prefix " + data + b" suffix") is not None


@pytest.mark.parametrize("data", ORDINARY_CONTENTS)
def test_ordinary_contents_are_not_secret(data: bytes) -> None:
    assert content_secret_reason(data) is None


@pytest.mark.parametrize(
    ("argv", "recorded"),
    [
        (["--api-key=sk-live-123"], [f"--api-key={REDACTED}"]),
        (["--api-key", "sk-live-123", "--lr", "0.1"], ["--api-key", REDACTED, "--lr", "0.1"]),
        (["--hf_token", "abc"], ["--hf_token", REDACTED]),
        (["--db-password=x"], [f"--db-password={REDACTED}"]),
        (["--client-secret", "x"], ["--client-secret", REDACTED]),
        (["--secret-key=x"], [f"--secret-key={REDACTED}"]),
        (["--wandb.apikey=x"], [f"--wandb.apikey={REDACTED}"]),
        (["-p", "x"], ["-p", "x"]),  # a single-dash letter says nothing
        (["API_KEY=x", "python", "t.py"], [f"API_KEY={REDACTED}", "python", "t.py"]),
        (["+db.password=x"], [f"+db.password={REDACTED}"]),
        (["model.lr=0.1"], ["model.lr=0.1"]),
        (["--max_tokens", "100"], ["--max_tokens", "100"]),
        (["--num-keys", "3"], ["--num-keys", "3"]),
        (["--use-auth", "--verbose"], ["--use-auth", "--verbose"]),  # a flag: next is an option
        (["ghp_" + "x" * 36], [REDACTED]),
        (["data-\udce9.csv"], ["data-\udce9.csv"]),
        (["--", "--token"], ["--", "--token"]),
    ],
)
def test_secret_arguments_are_redacted(argv: list[str], recorded: list[str]) -> None:
    assert redact_argv(["train.py", *argv]) == ["train.py", *recorded]


def test_secret_names() -> None:
    assert all(
        is_secret_name(n) for n in ("API_KEY", "hfToken", "AWS_SECRET_ACCESS_KEY", "db.password", "PW")
    )
    assert not any(is_secret_name(n) for n in ("MAX_TOKENS", "CUDA_VISIBLE_DEVICES", "KEYBOARD", "monkey"))


@settings(max_examples=300)
@given(st.binary(max_size=60))
def test_escaped_bytes_round_trip(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    escaped = escape_bytes(text)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in escaped)
    assert unescape_bytes(escaped) == text
    assert decode_captured(encode_captured([text, {"k": text}])) == [text, {"k": text}]


def test_captured_text_forms() -> None:
    assert encode_captured("plain") == "plain"
    assert encode_captured("data-\udce9%.csv") == {"bytes": "data-%E9%25.csv"}
    assert encode_captured({"argv": ["a", "\udcff"]}) == {"argv": ["a", {"bytes": "%FF"}]}
    assert readable({"bytes": "donn%E9es"}) == "donn\\xe9es"
    assert readable("caf\udce9") == "caf\\xe9"
    with pytest.raises(InvalidParameterValue, match="caf"):
        refuse_surrogates("caf\udce9", "tag value")
    assert refuse_surrogates("café", "tag value") == "café"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("\x1b]0;t\x07", "\\x1b]0;t\\x07"),
        ("x\x9by", "x\\x9by"),
        ("r\u202eL", "r\\u202eL"),
        ("line\nnext\r", "line\\nnext\\r"),
        ("tab\there", "tab\\there"),
        ("byte\udcff", "byte\\xff"),
        ("café ünïcode ✓ 😀", "café ünïcode ✓ 😀"),
    ],
)
def test_printable_escapes_control_characters(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_shell_join_gives_back_the_exact_bytes_in_bash() -> None:
    argv = ["python", "t.py", "data-\udce9.csv", "it's", "a\x1b[2Jb", "é\u202e", "two words", "\\x41"]
    line = shell_join(argv)
    out = subprocess.run(
        ["bash", "-c", f'for a in {line}; do printf "%s\\0" "$a"; done'], capture_output=True, check=True
    ).stdout
    assert out.split(b"\0")[:-1] == [os.fsencode(a) for a in argv]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("false", False),
        ("True", True),
        ("no", False),
        ("4", 4),
        ("-2", -2),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("0755", "0755"),
        ("http://x:9000", "http://x:9000"),
        ("us-east-1", "us-east-1"),
    ],
)
def test_config_values_are_typed(text: str, value: object) -> None:
    typed = typed_value(text)
    assert typed == value and type(typed) is type(value)


def test_requirement_lines_accept_only_package_names_and_versions() -> None:
    lines, refused = requirement_lines(
        {
            "numpy": "1.26.4",
            "torch": "2.13.0+cpu",
            "zope.interface": "6.0",
            "evil": "1.0 --extra-index-url https://evil.example",
            "--index-url https://evil.example": "1",
            "a b": "1",
            "ok": 5,
        }
    )
    assert lines == ["numpy==1.26.4\n", "torch==2.13.0+cpu\n", "zope.interface==6.0\n"]
    assert refused == 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "shorter than a journal header"),
        (bytes(1 << 12), "zero-filled"),
        (b"GRJ1\x01\x00", "shorter than a journal header"),
        (b"NOPE" + bytes(60), "not a gitrun journal header"),
    ],
)
def test_damaged_journal_headers_are_reported(tmp_path: os.PathLike[str], data: bytes, reason: str) -> None:
    path = os.path.join(tmp_path, "x.jnl")
    with open(path, "wb") as fh:
        fh.write(data)
    contents = jnl.read_records(path)
    assert contents.records == [] and reason in " ".join(contents.damage.reasons)
