"""How a GitHub delivery's names become the ledger's: a repository is an app, a deployment's
environment an environment, an account an actor; and the commands they make, validated."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from ledger.connectors.github_payloads import Account, Repository
from ledger.connectors.models import Mapping
from ledger.connectors.translation import Lookup, Malformed, Skipped, mapped
from ledger.domain import commands as c
from ledger.domain.events import ActorKind

C = TypeVar("C", bound=c.Command)
NOBODY = "github"  # the actor of a delivery that names no account


async def app_of(
    event: str, repository: Repository, mapping: Mapping, lookup: Lookup
) -> str | Skipped:
    """The app of a repository: its name (renamed by ``mapping.apps`` under its name or
    ``owner/name``, or fixed by ``mapping.app``), which the ledger must know."""
    named = repository.full_name if repository.full_name in mapping.apps else repository.name
    app = mapped(named, mapping.app, mapping.apps)
    if app is None:
        reason = (
            f"repository {repository.full_name or repository.name!r} maps to no app: its name is "
            "no valid app name; map it in the connector's mapping (apps)"
        )
        return Skipped(event=event, outcome="unmapped", reason=reason)
    if not await lookup.app_exists(app):
        reason = f"app {app!r} does not exist in the ledger; create it or map the repository"
        return Skipped(event=event, outcome="unmapped", reason=reason, app=app)
    return app


def env_of(event: str, app: str, environment: str, mapping: Mapping) -> str | Skipped:
    """The ledger's environment of a deployment's (``mapping.envs`` renames, ``env`` fixes)."""
    env = mapped(environment, mapping.env, mapping.envs)
    if env is None:
        reason = (
            f"environment {environment!r} maps to no environment: its name is no valid "
            "environment name; map it in the connector's mapping (envs)"
        )
        return Skipped(event=event, outcome="unmapped", reason=reason, app=app)
    return env


def actor_of(*accounts: Account | None) -> tuple[str, ActorKind]:
    """The first account given, as the ledger's actor: a bot (github-actions[bot], an app) is
    CI, anyone else a human."""
    account = next((a for a in accounts if a is not None), None)
    if account is None:
        return NOBODY, "ci"
    bot = account.type == "Bot" or account.login.endswith("[bot]")
    return account.login, "ci" if bot else "human"


def command(shape: type[C], **fields: Any) -> C:
    """A command of these fields (None: left out), validated as any client's is."""
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        return msgspec.convert(given, shape)
    except msgspec.ValidationError as error:
        tag = shape.__struct_config__.tag
        raise Malformed(f"the delivery makes no valid {tag} command: {error}") from None
