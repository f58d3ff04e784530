"""The read side opened from the settings: the views' database (and its read replica), and
the projection runner, handed the event store it follows."""

from __future__ import annotations

from ledger.domain.secrets import Fingerprints
from ledger.eventstore.application import LedgerStore
from ledger.settings import Settings
from ledger.sql.database import PostgresDatabase
from ledger.sql.opening import open_database
from projections.queries import Queries
from projections.replica import ReadReplica
from projections.runner import ProjectionRunner
from projections.view_store import ViewStore
from projections.views import Views, ledger_key


async def open_replica(settings: Settings) -> ReadReplica | None:
    """The read replica named by LEDGER_READ_DATABASE_URL (PostgreSQL only), if any."""
    if settings.read_database_url is None:
        return None
    if settings.database_url is None:
        raise ValueError("LEDGER_READ_DATABASE_URL needs LEDGER_DATABASE_URL (its primary)")
    return ReadReplica(await PostgresDatabase.open(settings.read_database_url))


async def open_views(settings: Settings, store: LedgerStore) -> Views:
    """Open the views, creating their tables when missing; ``views.runner.start()`` follows."""
    database = await open_database(settings)
    try:
        views = ViewStore(database)
        await views.create_tables()
        fingerprints = Fingerprints(await ledger_key(database, "fingerprint"))
        runner = ProjectionRunner(store, views, rules=settings.rules(), fingerprints=fingerprints)
        await runner.load()
        replica = await open_replica(settings)
    except BaseException:
        await database.close()
        raise
    return Views(database, runner, Queries(database), replica)
