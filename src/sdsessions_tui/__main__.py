"""``python -m sdsessions_tui`` runs the ``sdsessions`` command."""

import sys

from .cli import main

sys.exit(main())
