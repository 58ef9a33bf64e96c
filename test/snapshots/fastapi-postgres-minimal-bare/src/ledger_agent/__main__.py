"""Run the service: ``python -m ledger_agent`` (see runner.py)."""

import sys

from .runner import main

sys.exit(main())
