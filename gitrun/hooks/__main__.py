"""``python -m gitrun.hooks <hook> [args]``: what the installed shims run."""

import sys

from gitrun.hooks.run import main

sys.exit(main(sys.argv[1:], require_opt_in=True))
