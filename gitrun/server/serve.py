"""Running the app with uvicorn (``gitrun ui``)."""

from __future__ import annotations

import threading
import webbrowser

from gitrun.server.app import RouteGroup, create_app
from gitrun.server.options import ServerOptions


def url_of(options: ServerOptions, port: int | None = None) -> str:
    host = f"[{options.host}]" if ":" in options.host and not options.host.startswith("[") else options.host
    return f"http://{host}:{port if port is not None else options.port}/"


def serve(
    options: ServerOptions, *, open_browser: bool = False, groups: list[RouteGroup] | None = None
) -> None:
    """Serve until interrupted; print the URL once listening (and open it if asked)."""
    import uvicorn

    app = create_app(options, groups)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if not server.started:
            return
        port = server.servers[0].sockets[0].getsockname()[1] if server.servers else options.port
        url = url_of(options, port)
        mode = "writable" if options.writable else "read-only"
        print(f"gitrun UI ({mode}) at {url}  (Ctrl-C to stop)", flush=True)
        if open_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
