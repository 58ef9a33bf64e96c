"""``ROLE=migrate``: bring the store's schema up to date, then exit 0 (1 with one line).

Postgres: the session store's migrations (``sessions/migrations``) and the
tables of the runs queue (SAQ's own, versioned migrations). Both take advisory
locks, so concurrent migrate runs (or workers starting) apply each step once.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from saq.queue.postgres import PostgresQueue

from ..config import Settings
from ..sessions.migrate import run as migrate_sessions

logger = logging.getLogger(__name__)


async def migrate(url: str, queue_name: str) -> list[int]:
    applied = await migrate_sessions(url)
    queue = PostgresQueue.from_url(url, name=queue_name)
    try:
        await queue.connect()  # applies SAQ's pending migrations
    finally:
        await queue.disconnect()
    return applied


def main(settings: Settings) -> int:
    if settings.session_store != "postgres":
        logger.info(
            "nothing to migrate: the store has no schema", extra={"store": settings.session_store}
        )
        return 0
    try:
        applied = asyncio.run(migrate(settings.database_url, settings.run_queue_name))
    except Exception as exc:
        print(f"migrate failed: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    logger.info("migrated", extra={"versions": applied})
    return 0
