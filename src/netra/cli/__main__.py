"""``python -m netra.cli``: the ``netra`` command."""

import sys

from netra.cli import main

sys.exit(main())
