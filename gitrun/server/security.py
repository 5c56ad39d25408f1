"""Safety shared by every route group: headers, allowed hosts, write protection.

* Every response carries a Content-Security-Policy that allows scripts, styles,
  images and requests from this origin only (no inline script, no ``eval``, no
  plugin, no framing), ``nosniff`` and ``no-referrer``.
* On a loopback address only ``Host`` headers naming loopback are served, so a web
  page on another site cannot reach the server through DNS rebinding.
* :func:`check_write` guards every request that changes something: the server must
  have been started writable, and the request must come from the UI's own page
  (same-origin ``Origin``/``Sec-Fetch-Site`` when the browser sends them, a JSON
  body, and the per-process token the page read from ``/api/ui/config``; a page on
  another site can send none of these without the browser refusing it first).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gitrun.errors import GitrunError

CSRF_HEADER = "x-gitrun-csrf"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


class Forbidden(GitrunError):
    """A request the server refuses to act on (HTTP 403)."""

    default_code = "PERMISSION_DENIED"

    def get_http_status_code(self) -> int:
        return 403


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header (``[::1]:5050`` -> ``[::1]``)."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class SecurityMiddleware:
    """Adds the security headers to every HTTP response; refuses foreign hosts on loopback."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.loopback_only:
            host = host_name(Headers(scope=scope).get("host", "")).lower()
            if host not in LOOPBACK_NAMES:
                await _refuse(send, b"this gitrun server only answers requests for localhost\n")
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": 421, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_write(request: Request, writable: bool, token: str) -> None:
    """Refuse a write unless the server is writable and the request is the UI's own.

    Raises:
        Forbidden: read-only server, cross-site request, or a missing/wrong token.
    """
    if not writable:
        raise Forbidden("this gitrun UI is read-only: start it with `gitrun ui --writable` to change runs")
    headers = request.headers
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
        raise Forbidden("cross-site request refused (its Origin is another site)")
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise Forbidden("cross-site request refused (Sec-Fetch-Site)")
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise Forbidden("a change must be sent as application/json")
    if not hmac.compare_digest(headers.get(CSRF_HEADER, ""), token):
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header: reload the page")
