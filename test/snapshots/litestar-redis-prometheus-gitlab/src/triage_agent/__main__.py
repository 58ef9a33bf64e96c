"""Run the service: ``python -m triage_agent`` (see runner.py)."""

import sys

from .runner import main

sys.exit(main())
