"""The model registry in git: registered models, versions and aliases on ``refs/gitrun/registry``.

Every change is one commit made with the user's git identity, so ``git log
refs/gitrun/registry`` is the audit trail (who registered or promoted what, when).
The ref syncs with ``gitrun push``/``fetch``; concurrent changes on two machines
merge deterministically (:mod:`.merge`), with the merge commit recording what was
decided.  Modules: :mod:`.layout` (ref, tree paths), :mod:`.state` (the registry
as values and as a tree), :mod:`.store` (reading, compare-and-swap commits),
:mod:`.merge`, :mod:`.sync`.
"""
