"""Who ran what, where: user, host, entry point, argv.

Values are returned as Python holds them (text that is not valid UTF-8 as lone
surrogates); the store records them losslessly (``core.records.text``).  The values
of secret-looking arguments are redacted (``capture.secrets.redact_argv``).
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from typing import Any


def user() -> str:
    for name in ("GITRUN_USER", "MLFLOW_TRACKING_USERNAME"):
        value = os.environ.get(name)
        if value:
            return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def entry_point() -> str | None:
    """Absolute path of the script being run, when there is one."""
    script = sys.argv[0] if sys.argv else ""
    if script and script not in ("-c", "-m") and os.path.isfile(script):
        return os.path.abspath(script)
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path and os.path.isfile(path) else None


def user_script() -> str | None:
    """The entry point when it is the user's own file, not an installed tool
    (``pytest``, ``accelerate``, ``python -m pkg`` from site-packages): those say
    nothing about which code is being run, so the working directory decides."""
    script = entry_point()
    if script is None:
        return None
    # gitrun's own folder, from this file's place in it (gitrun/tracking/capture/):
    # importing the public package here would pull the facade into the tracking layer.
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)} | {package}
    real = os.path.realpath(script)
    if any(real.startswith(p + os.sep) for p in prefixes):
        return None
    return script


def source() -> dict[str, Any]:
    from gitrun.tracking.capture.secrets import redact_argv

    notebook = in_notebook()
    return {
        "name": sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>",
        "type": "NOTEBOOK" if notebook else "LOCAL",
        "entry_point": entry_point(),
        "argv": redact_argv(sys.argv),
        "cwd": os.getcwd(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
