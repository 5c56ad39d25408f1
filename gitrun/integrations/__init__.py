"""Outer layer: model flavors and autologging for ML libraries (see docs/architecture.md).

Nothing here is imported by ``import gitrun``; no ML library is imported before a
function needs it.
"""
