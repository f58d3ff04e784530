"""A receiver's translation, given a delivery as the tool sends it, outside any server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.connectors.models import Mapping
from ledger.connectors.translation import Changes, Delivery, Receiver, Skipped


class NoLookup:
    """Flag receivers ask the ledger nothing while they translate."""

    async def build_of_commit(self, app: str, commit: str) -> str | None:
        raise AssertionError("a flag receiver asked for a build")

    async def app_exists(self, app: str) -> bool:
        raise AssertionError("a flag receiver asked whether an app exists")


def delivery(body: bytes, headers: dict[str, str] | None = None) -> Delivery:
    named = {k.lower(): v for k, v in (headers or {}).items()}
    return Delivery(connector="flags", headers=named, body=body, received_at=datetime.now(UTC))


async def translated(
    receiver: Receiver, body: bytes, mapping: Mapping | None = None
) -> Changes | Skipped:
    return await receiver.translate(delivery(body), mapping or Mapping(), NoLookup())


@pytest.fixture
def secret() -> str:
    return "a-secret-of-sixteen-or-more"
