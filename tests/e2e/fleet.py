"""A realistic history for the dashboard's tests: three apps in dev/staging/prod over the last
eight weeks, with canaries, failures and rollbacks, config changes, flag flips, drift, a
freeze in force and change requests waiting for approval.

It is written before the server starts, on the ledger's own command path (``handle`` in a
``Session``, then ``store.save``) with an explicit clock, so releases lie in past weeks the way
they would after two months of use; ``ledger serve`` on the same data directory then projects
it like any log.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.domain import commands as c
from ledger.domain.events import Artifact, Pipeline
from ledger.domain.policy_document import Approvals, PolicyDocument
from ledger.domain.windows import FreezeWindow
from ledger.eventstore.application import LedgerStore
from ledger.service.session import Session
from ledger.service.unit_of_work import handle
from ledger.settings import Settings

WEEKS = 8
APPS = {
    "shop": ("dev", "staging", "prod"),
    "api": ("staging", "prod"),
    "billing": ("staging", "prod"),
}
CI = c.Context(actor="ci-bot", actor_kind="ci", via="http", correlation_id="nightly")
ALICE = c.Context(actor="alice", actor_kind="human", via="cli")
CAROL = c.Context(actor="carol", actor_kind="human", via="http")
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


class Fleet:
    """Writes the history; ``now`` is the moment the story ends (a few minutes ago)."""

    def __init__(self, store: LedgerStore, now: datetime) -> None:
        self.store = store
        self.now = now
        self.random = random.Random(19)
        self.versions: dict[tuple[str, str], int] = {}
        self.digests: dict[tuple[str, str], str] = {}  # what each environment's release runs
        self.builds: dict[str, int] = {}
        self.pending: list[str] = []  # change requests left waiting

    def at(self, when: datetime, cmd: c.AnyCommand, ctx: c.Context = CI) -> None:
        session = Session(self.store, OrderedDict())
        decided = handle(session, cmd, ctx, when)
        assert decided.refusal is None, (cmd, decided.refusal)
        self.store.save(*session.pending)
        for event in decided.events:
            release = getattr(event, "release", None)
            if release is not None:
                where = (cmd.app, getattr(cmd, "env", ""))
                self.versions[where] = release.version
                self.digests[where] = release.artifact_digest
            request = getattr(event, "request_id", None)
            if request is not None and type(event).__name__ == "ChangeRequested":
                self.pending.append(str(request))

    def build(self, when: datetime, app: str) -> str:
        self.builds[app] = self.builds.get(app, 0) + 1
        bid = f"{app}-{self.builds[app]}"
        commit = f"{self.random.getrandbits(160):040x}"
        self.at(
            when,
            c.RecordBuild(
                app=app,
                build_id=bid,
                commit=commit,
                branch="main",
                status="succeeded",
                artifact=Artifact(digest=f"sha256:{commit}{commit[:24]}"),
                pipeline=Pipeline(
                    name="main", run_id=f"run-{bid}", url=f"https://ci.example/{bid}"
                ),
                committed_at=when - timedelta(minutes=self.random.randint(20, 600)),
            ),
        )
        return bid

    def release(self, when: datetime, app: str, env: str, bid: str) -> datetime:
        """Deploy (a canary in prod, with its steps); sometimes it fails and is rolled back."""
        if env != "prod":
            self.at(when, c.Deploy(app=app, env=env, build_id=bid, description=f"{bid} to {env}"))
            return when
        self.at(
            when, c.Deploy(app=app, env=env, build_id=bid, strategy="canary", steps=[10, 50, 100])
        )
        version = self.versions[(app, env)]
        fate = self.random.random() if version > 2 else 1.0  # the first ones go out fine
        for i, percent in enumerate((50, 100)):
            if fate < 0.12 and i == 0:
                self.at(
                    when + 25 * MINUTE,
                    c.ProgressRollout(app=app, env=env, version=version, status="failed"),
                )
                reason = self.random.choice(
                    ("5xx above 2% on checkout", "p99 latency doubled", "OOM kills")
                )
                self.at(when + 40 * MINUTE, c.Rollback(app=app, env=env, reason=reason), ALICE)
                return when + 40 * MINUTE
            if fate < 0.18 and i == 1:
                self.at(
                    when + 70 * MINUTE,
                    c.ProgressRollout(app=app, env=env, version=version, status="aborted"),
                )
                self.at(
                    when + 90 * MINUTE,
                    c.Rollback(app=app, env=env, reason="canary aborted: error budget"),
                    ALICE,
                )
                return when + 90 * MINUTE
            self.at(
                when + (i + 1) * 30 * MINUTE,
                c.ProgressRollout(app=app, env=env, version=version, percent=percent),
            )
        self.at(
            when + 95 * MINUTE,
            c.ProgressRollout(app=app, env=env, version=version, status="completed"),
        )
        return when + 95 * MINUTE

    def weeks(self) -> None:
        start = self.now - timedelta(weeks=WEEKS)
        for app in APPS:
            self.at(start - HOUR, c.CreateApp(app=app, description=f"the {app} service"), ALICE)
        day = start
        while day < self.now - timedelta(days=1):
            for app, envs in APPS.items():
                self.day(day + timedelta(hours=self.random.randint(8, 12)), app, envs)
            day += timedelta(days=self.random.choice((1, 1, 2)))

    def day(self, when: datetime, app: str, envs: tuple[str, ...]) -> None:
        if self.random.random() < 0.55:
            bid = self.build(when, app)
            for env in envs:
                when = self.release(when + 2 * HOUR, app, env, bid)
        if self.random.random() < 0.25:
            env = self.random.choice(envs)
            key = self.random.choice(("POOL_SIZE", "TIMEOUT_MS", "LOG_LEVEL"))
            value = str(
                len(self.versions) * 10 + self.random.randint(1, 9) + sum(self.builds.values())
            )
            self.at(
                when + HOUR,
                c.ChangeConfig(app=app, env=env, set={key: value}, reason=f"tune {key}"),
                CAROL,
            )
        if self.random.random() < 0.4:
            env = self.random.choice(envs)
            flag = self.random.choice(("new-checkout", "dark-mode", "fast-search"))
            on = self.random.random() < 0.7
            self.at(
                when + 3 * HOUR,
                c.SetFlag(
                    app=app,
                    env=env,
                    flag=flag,
                    enabled=on,
                    rollout_percent=self.random.choice((10, 50, 100)) if on else None,
                    reason="experiment",
                ),
                CAROL,
            )

    def today(self) -> None:
        """What needs someone now: drift, a freeze, requests waiting, a canary under way."""
        now = self.now
        self.yesterday(now - timedelta(hours=30))
        bid = self.build(now - 3 * HOUR, "shop")
        self.release(now - 2 * HOUR, "shop", "staging", bid)
        self.report(now - 100 * MINUTE, "billing", "prod", drifted=True)
        self.report(now - 100 * MINUTE, "shop", "staging", drifted=False)
        self.at(
            now - 90 * MINUTE,
            c.Deploy(app="shop", env="prod", build_id=bid, strategy="canary", steps=[10, 50, 100]),
        )
        self.at(
            now - 60 * MINUTE,
            c.ProgressRollout(
                app="shop", env="prod", version=self.versions[("shop", "prod")], percent=50
            ),
        )
        freeze = FreezeWindow(
            name="black-friday", reason="peak traffic", start=now - 30 * MINUTE, end=now + 6 * HOUR
        )
        self.at(
            now - 40 * MINUTE,
            c.SetPolicy(
                app="shop",
                env="prod",
                reason="peak weekend",
                policy=PolicyDocument(freeze=[freeze]),
            ),
            ALICE,
        )
        gate = PolicyDocument(approvals=Approvals(required=1))
        self.at(
            now - 35 * MINUTE,
            c.SetPolicy(app="api", env="prod", reason="two-person rule", policy=gate),
            ALICE,
        )
        bid = self.build(now - 30 * MINUTE, "api")
        self.at(now - 25 * MINUTE, c.Deploy(app="api", env="staging", build_id=bid))
        self.at(now - 20 * MINUTE, c.Promote(app="api", env="prod", from_env="staging"))
        self.at(
            now - 15 * MINUTE,
            c.ChangeConfig(app="api", env="prod", set={"RATE_LIMIT": "900"}, reason="launch"),
            CAROL,
        )

    def yesterday(self, when: datetime) -> None:
        """A canary that failed in prod and was rolled back, with its reason."""
        bid = self.build(when - 2 * HOUR, "billing")
        self.at(when - HOUR, c.Deploy(app="billing", env="staging", build_id=bid))
        self.at(
            when,
            c.Deploy(app="billing", env="prod", build_id=bid, strategy="canary", steps=[10, 100]),
        )
        version = self.versions[("billing", "prod")]
        self.at(
            when + 20 * MINUTE,
            c.ProgressRollout(app="billing", env="prod", version=version, status="failed"),
        )
        self.at(
            when + 30 * MINUTE,
            c.Rollback(app="billing", env="prod", reason="invoices stuck in pending"),
            ALICE,
        )

    def report(self, when: datetime, app: str, env: str, *, drifted: bool) -> None:
        digest = f"sha256:{'d' * 64}" if drifted else None
        running = digest or self.digests[(app, env)]
        instances = [c.InstanceReport(id=f"{app}-{i}", artifact_digest=running) for i in range(3)]
        self.at(when, c.ReportRuntime(app=app, env=env, reporter="kubernetes", instances=instances))


def write_fleet(data_dir: Path, now: datetime | None = None) -> Fleet:
    """The whole history into the SQLite files under ``data_dir``."""
    store = LedgerStore(Settings(data_dir=data_dir))
    try:
        fleet = Fleet(store, (now or datetime.now(UTC)) - 5 * MINUTE)
        fleet.weeks()
        fleet.today()
        return fleet
    finally:
        store.close()
