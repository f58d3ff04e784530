"""`ledger migration record`: a schema migration applied in an environment, which a rollback to
a release older than an irreversible one respects."""

from __future__ import annotations

from typing import Any

import click

from ledger.cli import writes
from ledger.cli.client import env_path
from ledger.cli.options import NAME, TEXT


@click.group()
def migration() -> None:
    """Record schema migrations."""


@migration.command("record")
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.option("--id", "migration_id", type=TEXT, required=True, help="The migration's id.")
@click.option("--schema-version", type=TEXT, required=True, help="The schema version it brings.")
@click.option(
    "--reversible/--irreversible", default=None,
    help="Whether a rollback past it can undo it (a rollback past an irreversible one is "
    "refused unless forced).",
)  # fmt: skip
@click.option("--description", type=TEXT, help="What it changes.")
@writes.write_options
def record_migration(
    app: str,
    env: str,
    migration_id: str,
    schema_version: str,
    reversible: bool | None,
    description: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Record that migration --id of APP ran in ENV (migration:write).

    \b
    Examples:
      ledger migration record shop prod --id 0007-drop-carts --schema-version 7 --irreversible
      ledger migration record shop prod --id 0008-add-index --schema-version 8 --reversible
    """
    if reversible is None:
        raise click.UsageError("give --reversible or --irreversible")
    body: dict[str, Any] = {
        "migration_id": migration_id,
        "schema_version": schema_version,
        "reversible": reversible,
    }
    if description is not None:
        body["description"] = description
    write = writes.Write("POST", env_path(app, env) + "/migrations", body)
    kind = "reversible" if reversible else "irreversible"
    said = f"recorded migration {migration_id} in {app}/{env}: schema {schema_version}, {kind}"
    writes.report(writes.send(write, idempotency_key), as_json, lambda _: said)
