"""Gates end to end: policies, freeze windows, evidence and change requests, told to a real
`ledger serve` over HTTP (and CDEvents, NATS, the CLI) as clients tell them.

Each test works in a place of its own (``place``: an app no other test touches, in one
environment), so the tests of a module share one server per backend (tests/e2e/conftest.py).
"""

from __future__ import annotations

import pytest

from ..conftest import Api
from .places import Place


@pytest.fixture
def place(api: Api) -> Place:
    """An app of this test's own on the module's server (open mode), in ``prod``."""
    return Place.new(api)
