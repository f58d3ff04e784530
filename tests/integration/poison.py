"""A views database that refuses one row (an app described as "poison"): an event whose
rows the database cannot take, on each backend."""

from __future__ import annotations

from ledger.sql.database import Database

POISON = "poison"

REFUSE_POISON = {
    "sqlite": (
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON ledger_view_apps "
        "WHEN NEW.description = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
    ),
    "postgres": (
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.description = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON ledger_view_apps "
        "FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ),
}
"""A views database that refuses one row: an event whose rows cannot be written."""


async def refuse_poison(database: Database) -> None:
    for statement in REFUSE_POISON[database.backend]:
        await database.execute(statement)
