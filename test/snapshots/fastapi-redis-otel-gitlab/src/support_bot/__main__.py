"""Run the service: ``python -m support_bot`` (see runner.py)."""

import sys

from .runner import main

sys.exit(main())
