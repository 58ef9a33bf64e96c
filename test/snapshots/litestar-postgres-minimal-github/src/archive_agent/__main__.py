"""Run the service: ``python -m archive_agent`` (see runner.py)."""

import sys

from .runner import main

sys.exit(main())
