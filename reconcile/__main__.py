"""``python -m reconcile``: the same as the ``reconcile`` console script."""

import sys

from reconcile.cli import main

sys.exit(main())
