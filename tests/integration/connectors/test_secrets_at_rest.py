"""A connector's secret is kept encrypted with LEDGER_CIPHER_KEY when it is set: the stored
column never holds it, the receiver still verifies with it, and it is never listed again."""

from __future__ import annotations

import msgspec

from ledger.connectors.models import NewConnector
from ledger.connectors.registry import CONNECTORS, ConnectorStore
from ledger.eventstore.encryption import new_key
from ledger.settings import Settings
from ledger.sql.opening import open_database

SECRET = "s3cret-for-the-github-webhook"


async def test_a_secret_is_stored_encrypted_and_read_back(settings: Settings) -> None:
    database = await open_database(settings)
    try:
        store = ConnectorStore(database, new_key())
        await store.create_tables()
        new = msgspec.convert({"kind": "github", "name": "acme", "secret": SECRET}, NewConnector)
        await store.add(new, "admin")
        row = await database.fetchrow(f"SELECT secret FROM {CONNECTORS} WHERE name = $1", "acme")
        assert row is not None and SECRET not in str(row["secret"])
        assert str(row["secret"]).startswith("aes:")
        found = await store.get("acme")
        assert found is not None and found.secret == SECRET
        listed = msgspec.json.encode(await store.view(found, "http://ledger"))
        assert SECRET.encode() not in listed
    finally:
        await database.close()
