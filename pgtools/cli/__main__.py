"""``python -m pgtools.cli``: the same as ``python -m pgtools``."""

import sys

from . import main

sys.exit(main())
