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

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.tracking_uri)
        return self._client


def cli_context() -> CliContext:
    ctx = click.get_current_context()
    obj = ctx.find_object(CliContext)
    if obj is None:  # a command invoked on its own (tests)
        obj = CliContext(os.environ.get("GITRUN_TRACKING_URI"), color=False)
        ctx.obj = obj
    return obj
