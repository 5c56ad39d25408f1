"""The ``gitrun`` command line (an outer layer over the tracking API)."""
