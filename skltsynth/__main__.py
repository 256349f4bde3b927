"""``python -m skltsynth``: the command line of :mod:`skltsynth.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
