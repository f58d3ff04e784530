"""A release has three shapes: as stored (ReleaseFacts, in an event), as the domain holds it now
(Release: the facts plus who, when and by what) and on the wire (ReleaseView, the public
contract); the second is derived from the first, the third built from the second in one place."""

from __future__ import annotations

import msgspec

from ledger.domain.events import ConfigChanged, ReleaseCreated, ReleaseFacts
from ledger.domain.model import Environment, Release
from ledger.wire.shapes import ReleaseView, release_view, release_view_of

CONTRACT = (
    "version",
    "build_id",
    "commit",
    "config_version",
    "status",
    "rollout_percent",
    "rollback_of",
    "description",
    "actor",
    "created_at",
)


def test_a_stored_release_is_encoded_as_it_always_was() -> None:
    facts = ReleaseFacts(
        version=3,
        build_id="b1",
        commit="abc1234",
        artifact_digest="sha256:aa",
        config_version=2,
        status="rolling_out",
        rollout_percent=10,
        strategy="canary",
        steps=(10, 100),
    )
    assert msgspec.json.encode(facts) == (
        b'{"version":3,"build_id":"b1","commit":"abc1234","artifact_digest":"sha256:aa",'
        b'"config_version":2,"status":"rolling_out","rollout_percent":10,"strategy":"canary",'
        b'"steps":[10,100],"description":null,"rollback_of":null,"promoted_from":null}'
    )


def test_the_wire_shape_keeps_the_contracts_fields_in_order() -> None:
    assert ReleaseView.__struct_fields__[: len(CONTRACT)] == CONTRACT


def test_the_domain_release_holds_every_stored_fact() -> None:
    assert set(ReleaseFacts.__struct_fields__) <= set(Release.__struct_fields__)


def test_a_writes_answer_shows_the_release_as_the_views_do(given, then) -> None:
    given.build("b1").config({"A": "1"}).deploy("b1").build("b2").deploy("b2", strategy="canary")
    given.rollout(3, status="completed").rollback(to=2, force=True)
    made = [e for e in then.ledger.events if isinstance(e, ConfigChanged | ReleaseCreated)]
    state = next(s for s in then.ledger.streams.values() if isinstance(s, Environment))
    answered = [release_view_of(event) for event in made]
    created = [release_view(r) for r in state.releases]
    keep = ("status", "rollout_percent")  # these change after the answer, as the release rolls on
    assert [
        msgspec.structs.replace(a, **{k: getattr(c, k) for k in keep})
        for a, c in zip(answered, created, strict=True)
    ] == created
    assert [a.status for a in answered] == ["succeeded", "succeeded", "rolling_out", "succeeded"]
