"""One module per command; :mod:`gitrun.cli.main` wires them into the root group."""
