"""Run the service: ``python -m durable_conversation_ledger_agent_europe`` (see runner.py)."""

import sys

from .runner import main

sys.exit(main())
