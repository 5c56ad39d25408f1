"""The web UI: a page (static files) and the small JSON API it reads (``/api/ui``)."""

from __future__ import annotations

from gitrun.server.app import RouteGroup


def ui_group() -> RouteGroup:
    """The UI's routes: ``/`` (the page), ``/static/...`` and ``/api/ui/...``."""
    from gitrun.server.ui.routes import routes

    return RouteGroup("ui", "", routes)
