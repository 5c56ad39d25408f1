"""The options every route group of the server shares."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5050


@dataclass(frozen=True)
class ServerOptions:
    """What ``gitrun ui`` (and later ``gitrun server``) was started with.

    Attributes:
        tracking_uri: The repository or standalone store served (None: the current one).
        host: The address to bind; loopback unless the user says otherwise.
        port: The TCP port (0: any free port).
        writable: Allow changes (notes, tags, renames, deleting and restoring runs);
            the server is read-only without it.
        poll_seconds: How often pages look for new records (live runs).
    """

    tracking_uri: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    writable: bool = False
    poll_seconds: float = 2.0

    @property
    def loopback(self) -> bool:
        """Whether the server is only reachable from this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False
