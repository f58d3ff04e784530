"""A build recorded before the index of artifacts existed has no index: recording it again
(idempotent for the build) indexes its digest, once, so what runs is checked against it."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.events import Artifact, ArtifactIndexed
from ledger.domain.names import artifact_id, runtime_id
from ledger.domain.runtime import Runtime
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer

CI = c.Context(actor="ci-bot", actor_kind="ci")
REPORTER = c.Context(actor="k8s-reporter", actor_kind="system")
DIGEST = "sha256:" + "4b42" * 16
BUILD = c.RecordBuild(
    app="shop",
    build_id="b42",
    commit="ab12cd34",
    artifact=Artifact(digest=DIGEST),
    status="succeeded",
)


def test_a_build_recorded_before_the_index_is_indexed_when_recorded_again(
    store: LedgerStore, writer: Writer
) -> None:
    writer.execute(c.CreateApp(app="shop"), CI)
    older = decisions.record_build(None, BUILD, CI, datetime.now(UTC))
    assert older is not None
    store.events.put([older])  # as a ledger without the index recorded it: the build alone
    head = store.head()

    again = writer.execute(BUILD, CI)

    assert (again.replayed, again.event_id) == (True, older.event_id)
    assert [type(e) for _, e in store.read(head, 10)] == [ArtifactIndexed]
    assert store.load(artifact_id("shop", DIGEST)) is not None
    assert writer.execute(BUILD, CI).replayed and store.head() == head + 1  # indexed once
    running = [c.InstanceReport(id="shop-a-0", artifact_digest=DIGEST)]
    report = c.ReportRuntime(app="shop", env="prod", reporter="k8s:prod", instances=running)
    writer.execute(report, REPORTER)
    runtime = store.load(runtime_id("shop", "prod"))
    assert isinstance(runtime, Runtime) and runtime.unrecorded() == set()
