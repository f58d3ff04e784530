"""When each reporter last reported, changed or not: a report that changes nothing appends no
event, yet its time tells that the reporter is alive (a runtime is unknown once every reporter
of it has been silent for LEDGER_RUNTIME_STALE_SECONDS). Kept beside the views, in their
database; not part of the log, so a rebuild of the views leaves it as it is."""

from __future__ import annotations

from datetime import datetime

from ledger.sql.database import Database, create_schema

REPORTS = "ledger_view_runtime_reports"
CREATE = f"""CREATE TABLE IF NOT EXISTS {REPORTS} (
    app TEXT NOT NULL,
    env TEXT NOT NULL,
    reporter TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (app, env, reporter)
)"""
UPSERT = f"""INSERT INTO {REPORTS} (app, env, reporter, reported_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (app, env, reporter) DO UPDATE SET reported_at = excluded.reported_at"""


class Heartbeats:
    """The time of each reporter's last report of each app in each environment."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.ready = False

    async def record(self, env: str, reporter: str, apps: list[str], at: datetime) -> None:
        await self._create()
        async with self.database.transaction() as conn:
            await conn.executemany(UPSERT, [(app, env, reporter, at.isoformat()) for app in apps])

    async def last(self, app: str, env: str) -> dict[str, datetime]:
        """Each reporter's last report of ``app`` in ``env``."""
        await self._create()
        rows = await self.database.fetch(
            f"SELECT reporter, reported_at FROM {REPORTS} WHERE app = $1 AND env = $2", app, env
        )
        return {r["reporter"]: datetime.fromisoformat(r["reported_at"]) for r in rows}

    async def reported(self) -> set[tuple[str, str]]:
        """Every (app, env) some reporter has reported, released there or not."""
        await self._create()
        rows = await self.database.fetch(f"SELECT DISTINCT app, env FROM {REPORTS}")
        return {(r["app"], r["env"]) for r in rows}

    async def _create(self) -> None:
        if not self.ready:
            await create_schema(self.database, [CREATE])
            self.ready = True
