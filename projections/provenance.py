"""Where a deployed build ran before: the "not seen in staging first" note of a summary.

A deploy (not a promotion, not a rollback) is noted when its build has not succeeded first
where the policy says it should: in the environment before it on the promotion path
(``LEDGER_PROMOTION_PATH``); or, for a protected environment with no predecessor on the
path, in any other environment of the app. "Succeeded" means what the promotion rule means:
a release of that build in that environment whose status is succeeded or superseded.

The policy refuses such deploys from authenticated principals; the note makes the ones that
do happen (open mode, a path configured later, protected environments without a path)
stand out in history, feeds and chatops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ledger.domain.events import LedgerEvent, ReleaseCreated
from ledger.domain.model import GOOD, Environment
from ledger.domain.policy import Rules

EnvKey = tuple[str, str]
ANY_OTHER = "another environment"


def _deploy(event: LedgerEvent) -> ReleaseCreated | None:
    if isinstance(event, ReleaseCreated) and event.cause == "deploy" and event.env is not None:
        return event if event.release.build_id else None
    return None


def states_needed(events: Iterable[LedgerEvent], rules: Rules) -> tuple[set[EnvKey], set[str]]:
    """The environments whose state the notes of these events need: single ones by key, and
    the apps whose every environment is needed (deploys to protected environments)."""
    keys: set[EnvKey] = set()
    apps: set[str] = set()
    for event in events:
        deploy = _deploy(event)
        if deploy is None or deploy.env is None:
            continue
        first = rules.promotion_path.get(deploy.env)
        if first:
            keys.add((deploy.app, first))
        elif deploy.env in rules.protected:
            apps.add(deploy.app)
    return keys, apps


def succeeded_in(state: Environment | None, build_id: str) -> bool:
    return state is not None and any(
        r.build_id == build_id and r.status in GOOD for r in state.releases
    )


def unseen_in(event: LedgerEvent, states: Mapping[EnvKey, Environment], rules: Rules) -> str | None:
    """The environment a deploy's build should have succeeded in first and did not, if any."""
    deploy = _deploy(event)
    if deploy is None or deploy.env is None or deploy.release.build_id is None:
        return None
    build_id = deploy.release.build_id
    first = rules.promotion_path.get(deploy.env)
    if first:
        return None if succeeded_in(states.get((deploy.app, first)), build_id) else first
    if deploy.env not in rules.protected:
        return None
    others = [s for (app, env), s in states.items() if app == deploy.app and env != deploy.env]
    return None if any(succeeded_in(s, build_id) for s in others) else ANY_OTHER
