"""What runs against what was released: each runtime status, each transition, and reports that
change nothing appending nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.drift import assess, expectation, status_at
from ledger.domain.events import DriftDetected, DriftResolved, LedgerEvent, RuntimeObserved
from ledger.domain.names import runtime_id
from ledger.domain.runtime import Runtime

from .conftest import APP, CI, ENV, Ledger, digest_of

GRACE = timedelta(seconds=300)
REPORTER = c.Context(actor="k8s-reporter", actor_kind="system")
UNRECORDED = "sha256:" + "e" * 64


class Reports:
    """A reporter's reports, decided by the pure rules against the in-memory ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def runtime(self) -> Runtime | None:
        state = self.ledger.streams.get(runtime_id(APP, ENV))
        return state if isinstance(state, Runtime) else None

    def send(
        self, *digests: str, reporter: str = "k8s:prod-eu", complete: bool = True, pods: str = "a"
    ) -> list[LedgerEvent]:
        """Report one instance per digest given (a digest given twice: two instances)."""
        self.ledger.now += timedelta(seconds=1)
        instances = [
            c.InstanceReport(id=f"shop-{pods}-{n}", artifact_digest=d)
            for n, d in enumerate(digests)
        ]
        cmd = c.ReportRuntime(
            app=APP, env=ENV, reporter=reporter, complete=complete, instances=instances
        )
        unrecorded = frozenset(digests) & {UNRECORDED}
        events = decisions.report_runtime(
            self.runtime(), self._expected(), cmd, unrecorded, REPORTER, self.ledger.now
        )
        return self._append(events)

    def after_release_change(self) -> list[LedgerEvent]:
        """What a deploy, rollout step or rollback decides about drift (the unit of work)."""
        events = decisions.reassess(self.runtime(), self._expected(), CI, self.ledger.now)
        return self._append(events)

    def later(self, seconds: float) -> None:
        self.ledger.now += timedelta(seconds=seconds)

    def status(self) -> str:
        return assess(self._expected(), self.runtime(), self.ledger.now).status

    def _expected(self):  # type: ignore[no-untyped-def]
        return expectation(self.ledger.environment(), GRACE)

    def _append(self, events: list[LedgerEvent]) -> list[LedgerEvent]:
        for event in events:
            self.ledger.append(event)
        return events


@pytest.fixture
def reports(ledger: Ledger) -> Reports:
    return Reports(ledger)


def kinds(events: list[LedgerEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_no_report_is_unknown(given, reports) -> None:
    given.releases("b1")
    assert reports.status() == "unknown"


def test_instances_of_the_current_release_are_in_sync(given, reports) -> None:
    given.releases("b1")
    assert kinds(reports.send(digest_of("b1"), digest_of("b1"))) == ["RuntimeObserved"]
    assert reports.status() == "in_sync"


def test_a_repeated_report_with_other_pod_names_appends_nothing(given, reports) -> None:
    given.releases("b1")
    reports.send(digest_of("b1"), digest_of("b1"), pods="a")
    assert reports.send(digest_of("b1"), digest_of("b1"), pods="restarted") == []


def test_another_instance_count_is_a_change(given, reports) -> None:
    given.releases("b1")
    reports.send(digest_of("b1"))
    assert kinds(reports.send(digest_of("b1"), digest_of("b1"))) == ["RuntimeObserved"]


def test_an_unrecorded_artifact_is_drift_named_once(given, reports) -> None:
    given.releases("b1")
    events = reports.send(digest_of("b1"), UNRECORDED)
    assert kinds(events) == ["RuntimeObserved", "DriftDetected"]
    drift = events[1].drift  # type: ignore[attr-defined]
    assert (drift.status, drift.unrecorded_artifacts) == ("drifted", (UNRECORDED,))
    assert (drift.expected_version, drift.expected) == (1, (digest_of("b1"),))
    reports.send(digest_of("b1"), UNRECORDED, UNRECORDED)  # one more instance of it
    assert reports.send(digest_of("b1"), UNRECORDED, UNRECORDED, pods="b") == []


def test_an_old_release_past_the_grace_is_drift_naming_its_version(given, reports) -> None:
    given.releases("b1", "b2")
    reports.send(digest_of("b2"), digest_of("b1"))
    assert reports.status() == "in_sync"  # a rolling update within the grace
    reports.later(GRACE.total_seconds() + 1)
    events = reports.send(digest_of("b2"), digest_of("b1"), digest_of("b1"))
    drift = events[-1].drift  # type: ignore[attr-defined]
    assert isinstance(events[-1], DriftDetected)
    assert [(r.version, r.artifact_digest) for r in drift.old_releases] == [(1, digest_of("b1"))]


def test_a_canary_expects_both_artifacts(given, reports) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary")
    reports.later(GRACE.total_seconds() * 10)
    reports.send(digest_of("b1"), digest_of("b1"), digest_of("b2"))
    assert reports.status() == "in_sync"


def test_a_complete_report_without_the_app_is_not_running(given, reports) -> None:
    given.releases("b1")
    reports.send(digest_of("b1"))
    events = reports.send()
    assert kinds(events) == ["RuntimeObserved", "DriftDetected"]
    assert events[1].drift.status == "not_running"  # type: ignore[attr-defined]


def test_an_incomplete_report_without_instances_is_no_drift(given, reports) -> None:
    given.releases("b1")
    reports.send(digest_of("b1"), complete=False)
    assert reports.send(complete=False, reporter="static:web-1") == []
    assert reports.status() == "in_sync"


def test_the_union_of_two_reporters_is_what_runs(given, reports) -> None:
    given.releases("b1")
    reports.send(digest_of("b1"), reporter="k8s:prod-eu")
    events = reports.send(UNRECORDED, reporter="k8s:prod-us")
    assert isinstance(events[-1], DriftDetected)
    resolved = reports.send(digest_of("b1"), reporter="k8s:prod-us")
    assert kinds(resolved) == ["RuntimeObserved", "DriftResolved"]


def test_drift_resolved_by_a_new_report(given, reports) -> None:
    given.releases("b1")
    reports.send(UNRECORDED)
    events = reports.send(digest_of("b1"))
    assert isinstance(events[-1], DriftResolved)
    assert (events[-1].was, events[-1].drift.status) == ("drifted", "in_sync")
    assert reports.runtime().drift is None  # type: ignore[union-attr]


def test_a_rollback_resolves_drift_to_the_old_release(given, when, reports) -> None:
    given.releases("b1", "b2")
    reports.later(GRACE.total_seconds() + 1)
    reports.send(digest_of("b1"))  # someone rolled back by hand
    assert reports.status() == "drifted"
    when.rollback(to=1)
    assert kinds(reports.after_release_change()) == ["DriftResolved"]


def test_old_instances_are_drift_once_the_grace_after_a_deploy_ends(given, when, reports):
    given.releases("b1")
    reports.send(digest_of("b1"))
    given.build("b2")
    when.deploy("b2")
    assert reports.after_release_change() == []  # the rolling update has the grace to finish
    reports.later(GRACE.total_seconds() + 1)
    events = reports.after_release_change()
    assert kinds(events) == ["DriftDetected"]
    assert events[0].drift.old_releases[0].version == 1  # type: ignore[attr-defined]


def test_a_deploy_of_what_runs_resolves_drift(given, when, reports) -> None:
    given.releases("b1").build("b2")
    reports.send(digest_of("b2"))  # a recorded build, never released here
    assert reports.runtime().drift.other_artifacts == (digest_of("b2"),)  # type: ignore[union-attr]
    when.deploy("b2")
    assert kinds(reports.after_release_change()) == ["DriftResolved"]


def test_a_stale_reporter_reads_as_unknown(given, reports) -> None:
    given.releases("b1")
    reports.send(digest_of("b1"))
    runtime = reports.runtime()
    facts = assess(expectation(reports.ledger.environment(), GRACE), runtime, reports.ledger.now)
    stale = timedelta(seconds=600)
    now = reports.ledger.now
    assert status_at(facts, runtime, {}, now, stale) == "in_sync"
    assert status_at(facts, runtime, {}, now + timedelta(seconds=601), stale) == "unknown"
    heartbeat = {"k8s:prod-eu": now + timedelta(seconds=600)}
    assert status_at(facts, runtime, heartbeat, now + timedelta(seconds=601), stale) == "in_sync"


def test_runtime_events_chain_in_their_own_stream(given, reports) -> None:
    given.releases("b1")
    first = reports.send(UNRECORDED)
    observed, detected = first
    assert isinstance(observed, RuntimeObserved)
    assert detected.originator_version == observed.originator_version + 1
    assert detected.originator_id == observed.originator_id == runtime_id(APP, ENV)


def test_an_unchanged_report_after_the_grace_detects_the_old_instances(given, reports) -> None:
    given.releases("b1", "b2")
    reports.send(digest_of("b2"), digest_of("b1"))
    assert reports.send(digest_of("b2"), digest_of("b1"), pods="b") == []
    reports.later(GRACE.total_seconds() + 1)
    assert kinds(reports.send(digest_of("b2"), digest_of("b1"), pods="c")) == ["DriftDetected"]
    assert reports.send(digest_of("b2"), digest_of("b1"), pods="d") == []  # told once


def test_an_aborted_canarys_instances_may_run_for_the_grace_after_the_abort(given, when, reports):
    given.releases("b1").build("b2").deploy("b2", strategy="canary")
    reports.send(digest_of("b1"), digest_of("b2"))
    reports.later(GRACE.total_seconds() * 10)
    when.rollout(2, status="aborted")
    assert reports.after_release_change() == []  # the canary's instances are being taken down
    assert reports.status() == "in_sync"
    reports.later(GRACE.total_seconds() + 1)
    events = reports.after_release_change()
    assert kinds(events) == ["DriftDetected"]
    assert events[0].drift.old_releases[0].version == 2  # type: ignore[attr-defined]


def test_a_rollback_during_a_canary_gives_its_instances_the_grace(given, when, reports) -> None:
    given.releases("b1").build("b2").deploy("b2", strategy="canary")
    reports.send(digest_of("b1"), digest_of("b2"))
    reports.later(GRACE.total_seconds() * 10)
    when.rollback(to=1)
    assert reports.after_release_change() == []
    reports.later(GRACE.total_seconds() + 1)
    assert kinds(reports.after_release_change()) == ["DriftDetected"]
