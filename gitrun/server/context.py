"""What a request handler reaches: the options and one tracking client, used from one thread."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from gitrun.server.options import ServerOptions
from gitrun.tracking.client import Client

T = TypeVar("T")


class ServerContext:
    """Shared by every route group of one app.

    Tracking calls run in a worker thread (never on the event loop, so a slow read
    cannot stall other requests' I/O), one at a time: the tracking store is shared
    by the whole process and its readers are not all meant for concurrent use.
    """

    def __init__(self, options: ServerOptions, client: Client | None = None) -> None:
        self.options = options
        self.csrf_token = secrets.token_urlsafe(32)
        self._client = client
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.options.tracking_uri)
        return self._client

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in the tracking thread; return its result."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        call = functools.partial(fn, *args, **kwargs)
        result: T = await anyio.to_thread.run_sync(call, limiter=self._limiter)
        return result
