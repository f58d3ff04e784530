"""Properties of reports, for any sequence of them: a report repeated (whatever its pod names)
appends nothing, and the drift recorded always agrees with the status derived from the state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.drift import BAD, Expectation, assess
from ledger.domain.model import evolve
from ledger.domain.runtime import Runtime

NOW = datetime(2025, 3, 4, tzinfo=UTC)
DIGESTS = ["sha256:" + ch * 64 for ch in "abcd"]
EXPECTED = Expectation(version=1, digests=frozenset(DIGESTS[:1]), released={DIGESTS[0]: 1})
CTX = c.Context(actor="k8s", actor_kind="system")

reports = st.lists(
    st.tuples(
        st.sampled_from(["k8s:eu", "k8s:us"]),
        st.lists(st.sampled_from(DIGESTS), max_size=4),
        st.booleans(),
    ),
    max_size=8,
)


def command(reporter: str, digests: list[str], complete: bool, pods: str) -> c.ReportRuntime:
    instances = [
        c.InstanceReport(id=f"p-{pods}-{n}", artifact_digest=d) for n, d in enumerate(digests)
    ]
    return c.ReportRuntime(
        app="shop", env="prod", reporter=reporter, complete=complete, instances=instances
    )


def send(state: Runtime | None, cmd: c.ReportRuntime, now: datetime) -> tuple[Runtime | None, int]:
    unrecorded = frozenset(DIGESTS[2:])
    events = decisions.report_runtime(state, EXPECTED, cmd, unrecorded, CTX, now)
    for event in events:
        evolved = evolve(state, event)
        assert isinstance(evolved, Runtime)
        state = evolved
    return state, len(events)


@settings(max_examples=150, deadline=None)
@given(reports)
def test_a_repeated_report_appends_nothing_and_drift_agrees(sequence: list) -> None:  # type: ignore[type-arg]
    state: Runtime | None = None
    now = NOW
    for reporter, digests, complete in sequence:
        now += timedelta(seconds=1)
        state, _ = send(state, command(reporter, digests, complete, "a"), now)
        state, appended = send(state, command(reporter, digests, complete, "b"), now)
        assert appended == 0
        if state is not None:
            status = assess(EXPECTED, state, now).status
            recorded = state.drift.status if state.drift else None
            assert (status in BAD) == (recorded is not None)
            if status in BAD:
                assert recorded == status
