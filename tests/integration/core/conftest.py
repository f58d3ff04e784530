"""Backends for the core's integration tests: each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.settings import Settings


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "ledger")
    else:
        yield Settings(
            data_dir=tmp_path / "ledger", database_url=request.getfixturevalue("postgres_url")
        )
