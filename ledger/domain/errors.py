"""The errors a command can end in; adapters map each to a status code."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was appended."""

    title = "Command refused"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """The app, environment, build or release named does not exist."""

    title = "Not found"


class Conflict(DomainError):
    """The command contradicts the ledger's current state."""

    title = "Conflict"


class KeyReused(Conflict):
    """An idempotency key came again with a request other than the one it first came with."""


class Invalid(DomainError):
    """A field of the command breaks a rule of the domain."""

    title = "Invalid field"


class RollbackBlocked(Conflict):
    """A rollback would cross irreversible migrations."""

    title = "Rollback blocked by irreversible migrations"

    def __init__(self, detail: str, migrations: list[str]) -> None:
        super().__init__(detail)
        self.migrations = migrations
