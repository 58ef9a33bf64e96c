"""Run the service: ``python -m lite_agent_with_the_longest_allowed_name`` (see runner.py)."""

import sys

from .runner import main

sys.exit(main())
