"""Git hooks: share runs on ``git push``, link runs to the commit that holds their code.

An outer layer over the tracking API.  ``gitrun hooks install`` writes small shell
shims into the repository's hooks folder (``core.hooksPath`` respected), chaining to
any hook already there; the shims call ``python -m gitrun.hooks <name>``.
"""

HOOKS = ("pre-push", "post-commit")
