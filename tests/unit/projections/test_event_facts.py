"""Each event type declares its facts once, next to its class: history kind, CloudEvents type,
and (for history) its one-line summary. A new event type without them fails here."""

from __future__ import annotations

from typing import get_args

import pytest

from ledger.domain.catalog import EVENTS
from ledger.domain.events import LedgerEvent
from ledger.wire.shapes import HistoryKind
from projections.summaries import SUMMARIES

SHOWN = [cls for cls in EVENTS if cls.kind is not None]


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found))


def test_every_event_type_is_listed() -> None:
    assert set(EVENTS) == _subclasses(LedgerEvent)


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.__name__)
def test_every_event_type_declares_its_kind_and_cloudevent_type(cls: type[LedgerEvent]) -> None:
    assert "kind" in vars(cls) and "cloudevent_type" in vars(cls)


@pytest.mark.parametrize("cls", SHOWN, ids=lambda cls: cls.__name__)
def test_every_event_history_shows_is_a_known_kind_published_and_summarised(
    cls: type[LedgerEvent],
) -> None:
    assert cls.kind in get_args(HistoryKind)
    assert cls.cloudevent_type is not None and cls.cloudevent_type.startswith("dev.cdevents")
    assert cls in SUMMARIES


def test_bookkeeping_is_neither_shown_nor_published() -> None:
    hidden = [cls for cls in EVENTS if cls.kind is None]
    assert hidden and all(cls.cloudevent_type is None and cls not in SUMMARIES for cls in hidden)
