"""Apply the Postgres session store's migrations: ``python -m durable_conversation_ledger_agent_europe.sessions.migrate``.

The migrations live in ``migrations/``; the store also applies them at start
(``PostgresSessionStore.connect``). A transaction-scoped advisory lock makes
concurrent workers and pods apply each migration exactly once.
"""

from __future__ import annotations

import asyncio
import sys

import psycopg

from .migrations import migrate


async def run(url: str) -> list[int]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        return await migrate(conn)


def main() -> int:
    from ..config import load_settings  # noqa: PLC0415 (only when run as a command)
    from ..logs import configure_logging  # noqa: PLC0415

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.database_url:
        print("invalid configuration: DATABASE_URL: required to migrate", file=sys.stderr)
        return 2
    applied = asyncio.run(run(settings.database_url))
    print(f"migrations applied: {applied or 'none (up to date)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
