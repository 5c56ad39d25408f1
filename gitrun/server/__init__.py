"""gitrun's web server: one Starlette app whose route groups share options and safety.

An outer layer: it calls only the public tracking API (``gitrun.tracking``).  The
web UI (:mod:`gitrun.server.ui`) is one route group; others (an MLflow-compatible
REST API) mount beside it in :func:`gitrun.server.app.create_app`.  Needs the
``ui`` extra (starlette, uvicorn, numpy).
"""
