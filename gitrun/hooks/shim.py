"""The shell shim installed as a git hook (one template, used for every hook)."""

from __future__ import annotations

import shlex

MARKER_PREFIX = "# gitrun-hook v"
MARKER = MARKER_PREFIX + "2"
CHAINED_SUFFIX = ".gitrun-chained"

TEMPLATE = """#!/bin/sh
{marker} — installed by `gitrun hooks install`; remove with `gitrun hooks uninstall`.
# Runs the hook that was here before (if any), then gitrun's. gitrun never blocks the
# git command unless `git config gitrun.strictHooks true`.
hook={hook}
here=$(dirname "$0")
{read_stdin}if [ -x "$here/$hook{chained}" ]; then
    {feed}"$here/$hook{chained}" "$@" || exit $?
fi
# Only in repositories that opted in (`gitrun hooks install` ran there): a hooks folder
# set in the global git config runs this in every repository.
[ "$(git config --bool gitrun.hooks 2>/dev/null)" = true ] || exit 0
{fast_path}if {python} -c "import gitrun" >/dev/null 2>&1; then
    {feed}{python} -m gitrun.hooks "$hook" "$@"
elif command -v gitrun >/dev/null 2>&1; then
    {feed}gitrun hooks run "$hook" "$@"
else
    echo "gitrun: hook $hook skipped: gitrun is not installed for {python}" >&2
fi
"""

# post-commit: nothing to do (and no Python started) unless a run recorded code
# whose tree is exactly the new commit's.
_POST_COMMIT_FAST_PATH = """common=$(git rev-parse --git-common-dir 2>/dev/null) || exit 0
tree=$(git rev-parse 'HEAD^{tree}' 2>/dev/null) || exit 0
grep -qs "^$tree" "$common/gitrun/unlinked-trees" || exit 0
"""


def render(hook: str, python: str) -> str:
    """The shim for ``hook``; pre-push hands its stdin (the refs pushed) to both hooks."""
    reads = hook == "pre-push"
    return TEMPLATE.format(
        marker=MARKER,
        hook=hook,
        chained=CHAINED_SUFFIX,
        python=shlex.quote(python),
        read_stdin="input=$(cat)\n" if reads else "",
        feed='printf "%s\\n" "$input" | ' if reads else "",
        fast_path=_POST_COMMIT_FAST_PATH if hook == "post-commit" else "",
    )
