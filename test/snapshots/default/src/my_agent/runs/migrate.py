"""``ROLE=migrate``: bring the store's schema up to date, then exit 0 (1 with one line).

The memory store has no schema: this role logs so and exits 0, so a
deployment can run the same migrate step whatever the store.
"""

from __future__ import annotations

import logging

from ..config import Settings

logger = logging.getLogger(__name__)


def main(settings: Settings) -> int:
    logger.info(
        "nothing to migrate: the store has no schema", extra={"store": settings.session_store}
    )
    return 0
