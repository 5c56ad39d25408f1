"""The small typed object every command receives (``ctx.obj``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import click

from gitrun.tracking.client import Client


@dataclass
class CliContext:
    tracking_uri: str | None
    color: bool
    _client: Client | None = field(default=None, repr=False)
    _reader: Client | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        """A client for commands that write (creates a standalone store on first use)."""
        if self._client is None:
            self._client = Client(self.tracking_uri)
        return self._client

    @property
    def reader(self) -> Client:
        """A client for commands that only read: it never creates or changes a store."""
        if self._client is not None:
            return self._client
        if self._reader is None:
            self._reader = Client(self.tracking_uri, create=False)
        return self._reader


def cli_context() -> CliContext:
    ctx = click.get_current_context()
    obj = ctx.find_object(CliContext)
    if obj is None:  # a command invoked on its own (tests)
        obj = CliContext(os.environ.get("GITRUN_TRACKING_URI"), color=False)
        ctx.obj = obj
    return obj
