"""The small typed object every command receives (``ctx.obj``)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import click

from gitrun.tracking.client import Client


def terminal_width() -> int | None:
    """Columns of the terminal stdout is on (``COLUMNS`` wins); None off a terminal."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((100, 24)).columns


def want_color(flag: bool | None) -> bool:
    """``--color``/``--no-color`` when given; else colour on a terminal unless NO_COLOR is set."""
    if flag is not None:
        return flag
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@dataclass
class CliContext:
    tracking_uri: str | None
    color: bool
    width: int | None = None
    """Terminal columns to fit tables into; None when stdout is not a terminal."""
    pager: bool = True
    """False with ``--no-pager``."""
    color_flag: bool | None = None
    """``--color`` (True) or ``--no-color`` (False) when given."""
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

    def run_id(self, text: str, experiment_ids: Sequence[str] | None = None) -> str:
        """The run an id, id prefix, name, ``latest`` or ``@~N`` names."""
        from gitrun.tracking.selection import resolve_run

        return resolve_run(self.reader.store, text, experiment_ids)

    def experiment_id(self, text: str) -> str:
        """The experiment a name or an id names."""
        from gitrun.tracking.selection import resolve_experiment

        return resolve_experiment(self.reader.store, text).experiment_id


def cli_context() -> CliContext:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(CliContext) if ctx is not None else None
    if obj is None:  # a command invoked on its own (tests)
        obj = CliContext(os.environ.get("GITRUN_TRACKING_URI"), color=False, width=terminal_width())
        if ctx is not None:
            ctx.obj = obj
    return obj
