"""A save that went through although its answer was lost (the database connection broke after
the commit) is answered as saved. eventsourcing retries such a save, and the retry conflicts
with the batch itself: the writer must not take that for another writer's conflict and decide
the command again (a deploy would make two releases; a config change would be refused)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.domain import commands as c
from ledger.domain.events import Artifact, ReleaseCreated
from ledger.eventstore.application import LedgerStore, read_batch
from ledger.service.writer import Writer
from ledger.settings import Settings

CI = c.Context(actor="ci-bot", actor_kind="ci")


def _answer_lost_once(store: LedgerStore) -> None:
    """The next save commits, then fails as eventsourcing's retry of it would."""
    put = store.events.put

    def commit_then_conflict(events: Any, **kwargs: Any) -> Any:
        store.events.put = put  # type: ignore[method-assign]
        put(events, **kwargs)
        raise IntegrityError("duplicate key value violates unique constraint")

    store.events.put = commit_then_conflict  # type: ignore[method-assign,assignment]


def test_a_deploy_whose_commit_answer_was_lost_makes_one_release(settings: Settings) -> None:
    store = LedgerStore(settings)
    writer = Writer(store)
    try:
        writer.execute(c.CreateApp(app="shop"), CI)
        build = c.RecordBuild(app="shop", build_id="b1", commit="abc1def", status="succeeded",
                              artifact=Artifact(digest="sha256:" + "1" * 64))  # fmt: skip
        writer.execute(build, CI)
        _answer_lost_once(store)
        result = writer.execute(c.Deploy(app="shop", env="prod", build_id="b1"), CI)
        changed = writer.execute(c.ChangeConfig(app="shop", env="prod", set={"A": "1"}), CI)
        log = read_batch(store, 0, 100)
    finally:
        writer.close()
        store.close()

    assert result.release is not None and result.release.version == 1
    deploys = [(p, e.event_id) for p, e in log if isinstance(e, ReleaseCreated)]
    assert deploys == [(result.position, result.event_id)]
    assert changed.release is not None and changed.release.version == 2
