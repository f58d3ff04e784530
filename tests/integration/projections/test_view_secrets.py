"""A secret's plaintext never reaches a view: every row of every view table is checked."""

from __future__ import annotations

from ledger.domain.secrets import fingerprint


async def test_no_view_table_holds_a_secret_value(
    ledger, views, view_tables_of, planted_secrets
) -> None:
    await ledger.story()
    await views.runner.catch_up()
    shown = []
    for table in await view_tables_of(views.database):
        for row in await views.database.fetch(f"SELECT * FROM {table}"):
            shown.append(" ".join(str(value) for value in row.values()))
    text = "\n".join(shown)
    for secret in planted_secrets:
        assert secret not in text
        assert fingerprint(secret) in text  # the change is still visible


async def test_secrets_stay_out_after_a_rebuild(ledger, views) -> None:
    await ledger.story()
    await views.runner.rebuild()
    state = await views.queries.state("shop", "prod")
    assert state is not None
    assert state.config["DB_PASSWORD"] == fingerprint("hunter2-secret")
    assert state.config["LICENSE"] == fingerprint("licence-plaintext-1")
