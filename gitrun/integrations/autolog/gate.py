"""Whether a patched training call logs, and into which run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.session import AutologConfig, autolog_run, outermost


@contextmanager
def logging_call(
    flavor: str, *, process_wide: bool = False, guard: str | None = None
) -> Iterator[tuple[AutologConfig, str] | None]:
    """``(config, run_id)`` for a call that logs; None for one that just trains.

    None when the flavor's autologging is off, inside an outer patched call (see
    :func:`~.session.outermost`), or when there is no run to log into
    (``exclusive=True`` in a user's run, or a run that could not be started).  A
    run started here is ended on the way out, as :func:`~.session.autolog_run` does.
    """
    config = patching.active(flavor)
    if config is None:
        yield None
        return
    with outermost(guard or flavor, process_wide) as outer:
        if not outer:
            yield None
            return
        with autolog_run(config) as run_id:
            yield None if run_id is None else (config, run_id)
