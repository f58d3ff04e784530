"""The rules: each decision takes the current state and a command and returns the new event,
or raises a DomainError. Pure: the caller loads the state and saves the event. One module per
aggregate (stream): apps, builds, environments (and their releases)."""

from ledger.domain.decisions.apps import create_app
from ledger.domain.decisions.builds import (
    build_id_of,
    default_build_id,
    index_artifact,
    record_build,
)
from ledger.domain.decisions.environments import (
    apply_migration,
    change_config,
    progress_rollout,
    set_flag,
)
from ledger.domain.decisions.gates import (
    approve,
    expire,
    failed,
    pending,
    record_evidence,
    reject,
    released,
    request_change,
    set_policy,
)
from ledger.domain.decisions.releases import (
    DEFAULT_CANARY_STEPS,
    deploy,
    promoted_build,
    rollback,
    rollback_target,
)
from ledger.domain.decisions.runtime import deny_unrecorded, line_after, reassess, report_runtime
from ledger.domain.decisions.streams import deny, new_event

__all__ = [
    "DEFAULT_CANARY_STEPS",
    "apply_migration",
    "approve",
    "build_id_of",
    "change_config",
    "create_app",
    "default_build_id",
    "deny",
    "deny_unrecorded",
    "deploy",
    "expire",
    "failed",
    "index_artifact",
    "line_after",
    "new_event",
    "pending",
    "progress_rollout",
    "promoted_build",
    "reassess",
    "record_build",
    "record_evidence",
    "reject",
    "released",
    "report_runtime",
    "request_change",
    "rollback",
    "rollback_target",
    "set_flag",
    "set_policy",
]
