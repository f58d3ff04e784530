"""Change requests in the views: each request's state after its events, by the domain's own
rules (``ledger.domain.requests``), worked out without I/O.

A requested config change shows its secret values as their fingerprints, by the keys secret in
its environment when it was requested (as the history shows config changes), so a secret's
plaintext never enters a view."""

from __future__ import annotations

from collections.abc import Iterable

from msgspec import Struct

from ledger.domain import commands as c
from ledger.domain.events import LedgerEvent
from ledger.domain.gate_events import REQUEST_EVENTS, ChangeRequested, RequestStep
from ledger.domain.model import apply
from ledger.domain.requests import ChangeRequest

EnvKey = tuple[str, str]


class ProjectedRequest(Struct, kw_only=True):
    """A request as its view holds it: its state, where it was made and where it last changed."""

    state: ChangeRequest
    requested_position: int
    position: int


def requests_needed(events: Iterable[LedgerEvent]) -> set[str]:
    """The requests these events step that were made before them (their views must be read)."""
    made: set[str] = set()
    needed: set[str] = set()
    for event in events:
        if isinstance(event, ChangeRequested):
            made.add(event.request_id)
        elif isinstance(event, REQUEST_EVENTS) and event.request_id not in made:
            needed.add(event.request_id)
    return needed


def environments_needed(events: Iterable[LedgerEvent]) -> set[EnvKey]:
    """The environments of requested config changes: the keys they hold secret count."""
    return {
        (e.app, e.env)
        for e in events
        if isinstance(e, ChangeRequested)
        and isinstance(e.command, c.ChangeConfig)
        and e.env is not None
    }


class RequestChanges:
    """The requests a batch of events makes or steps, and where each one changed last.

    ``requests`` must hold each request the batch steps that was made before the batch; it is
    updated in place. A step of a request it does not hold (whose making could not be
    projected) changes no request."""

    def __init__(self, requests: dict[str, ProjectedRequest] | None = None) -> None:
        self.requests = requests if requests is not None else {}
        self.changed: set[str] = set()

    def apply(self, event: ChangeRequested | RequestStep, position: int) -> None:
        """Add the change one request event (at its global position) makes; ``event`` as shown."""
        if isinstance(event, ChangeRequested):
            made = _after(None, event)
            self.requests[event.request_id] = ProjectedRequest(
                state=made, requested_position=position, position=position
            )
        else:
            known = self.requests.get(event.request_id)
            if known is None:
                return
            known.state = _after(known.state, event)
            known.position = position
        self.changed.add(event.request_id)

    def rows(self) -> list[ProjectedRequest]:
        """The requests the batch changed, in a stable order."""
        return [self.requests[request_id] for request_id in sorted(self.changed)]


def _after(state: ChangeRequest | None, event: LedgerEvent) -> ChangeRequest:
    after = apply(state, event)
    assert isinstance(after, ChangeRequest)
    return after
