"""The errors a command can end in; each names the HTTP status adapters answer it with."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was appended."""

    title = "Command refused"
    status = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """The app, environment, build or release named does not exist."""

    title = "Not found"
    status = 404


class Conflict(DomainError):
    """The command contradicts the ledger's current state."""

    title = "Conflict"
    status = 409


class KeyReused(Conflict):
    """An idempotency key came again with a request other than the one it first came with."""


class Invalid(DomainError):
    """A field of the command breaks a rule of the domain."""

    title = "Invalid field"
    status = 422


class RollbackBlocked(Conflict):
    """A rollback would cross irreversible migrations."""

    title = "Rollback blocked by irreversible migrations"

    def __init__(self, detail: str, migrations: list[str]) -> None:
        super().__init__(detail)
        self.migrations = migrations


class Refused(DomainError):
    """A gate of the policy refused the command; the refusal itself is recorded (denied)."""

    title = "Refused by policy"
    status = 409

    def __init__(self, detail: str, *, gate: str, policy: str | None = None) -> None:
        super().__init__(detail)
        self.gate = gate  # protection, promotion, freeze, evidence, approval, scope
        self.policy = policy  # the policy version that refused it


class Forbidden(Refused):
    """The principal may not do this here (a scope, a protected environment, its own request)."""

    title = "Forbidden"
    status = 403

    def __init__(self, detail: str, *, gate: str = "scope", policy: str | None = None) -> None:
        super().__init__(detail, gate=gate, policy=policy)


class Frozen(Refused):
    """The environment is inside a freeze window."""

    title = "Environment frozen"
    status = 423

    def __init__(self, detail: str, *, window: str, ends_at: str, policy: str | None) -> None:
        super().__init__(detail, gate="freeze", policy=policy)
        self.window = window
        self.ends_at = ends_at


class EvidenceMissing(Refused):
    """The build lacks a passed attestation the policy requires."""

    title = "Required evidence missing"

    def __init__(self, detail: str, *, missing: list[str], policy: str | None) -> None:
        super().__init__(detail, gate="evidence", policy=policy)
        self.missing = missing
