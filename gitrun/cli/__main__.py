"""``python -m gitrun.cli`` is the ``gitrun`` command."""

from gitrun.cli.main import main

main()
