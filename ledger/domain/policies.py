"""The policy in force in an environment: a recorded policy per app and one for every app
(``*``), over the defaults the ledger was started with, resolved field by field."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Struct

from ledger.domain.policy import Rules
from ledger.domain.policy_document import Approvals, Unrecorded
from ledger.domain.policy_levels import PolicyLevel
from ledger.domain.windows import FreezeWindow

EVERY_APP = "*"
"""The app of the policy every app inherits."""


class Policy(Struct, frozen=True, kw_only=True):
    """Every gate of an environment, resolved; ``version`` names the recorded policies it
    comes from (``shop/prod v3 + */prod v1``), or ``defaults`` when there are none."""

    protected: bool = False
    promotion_from: str | None = None
    approvals: Approvals | None = None
    rollback_needs_approval: bool = True
    freeze: tuple[FreezeWindow, ...] = ()
    required_evidence: tuple[str, ...] = ()
    unrecorded: Unrecorded = "allow"
    version: str = "defaults"

    def approvals_required(self) -> int:
        return self.approvals.required if self.approvals else 0


def default_policy(rules: Rules, env: str) -> Policy:
    """The policy the ledger's settings give (LEDGER_PROTECTED_ENVS, LEDGER_PROMOTION_PATH,
    LEDGER_UNRECORDED_IS_DENIED): what an environment with no recorded policy follows."""
    protected = env in rules.protected
    return Policy(
        protected=protected,
        promotion_from=rules.promotion_path.get(env),
        unrecorded="deny" if rules.unrecorded_is_denied and protected else "allow",
    )


def resolve(base: Policy, *levels: PolicyLevel | None) -> Policy:
    """The policy in force: each level (``*`` first, then the app's) overrides the fields it
    sets."""
    fields: dict[str, Any] = msgspec.structs.asdict(base)
    names = []
    for level in levels:
        if level is None:
            continue
        names.append(f"{level.app}/{level.env} v{level.version}")
        for name, value in msgspec.structs.asdict(level.document).items():
            if value is not UNSET:
                fields[name] = tuple(value) if isinstance(value, list) else value
    fields["version"] = " + ".join(reversed(names)) if names else "defaults"
    return Policy(**fields)
