"""The one top-level error handler: our errors exit 1 with a short message,
Ctrl-C exits 130, anything else exits 3 with a traceback saved for a bug report."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import TypeVar

import click

from gitrun.errors import GitrunError

T = TypeVar("T")

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BUG = 3


def run_guarded(main: Callable[[], T]) -> T:
    try:
        return main()
    except GitrunError as exc:
        from gitrun.cli.output import safe_message

        # Messages quote run names, paths and record contents: never raw on a terminal.
        click.echo(f"gitrun: error: {safe_message(exc.message)}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.echo("gitrun: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
        raise
    except Exception:  # noqa: BLE001 - the last line of defence
        fd, path = tempfile.mkstemp(prefix="gitrun-crash-", suffix=".log")
        with os.fdopen(fd, "w") as fh:
            fh.write(f"gitrun {' '.join(sys.argv[1:])}\n\n")
            traceback.print_exc(file=fh)
        click.echo(
            f"gitrun: unexpected error: {sys.exc_info()[1]!r}\nDetails saved to {path}; please "
            "include them in a bug report.",
            err=True,
        )
        sys.exit(EXIT_BUG)
