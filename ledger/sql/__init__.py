"""The SQL layer: one async interface over PostgreSQL (asyncpg) and SQLite, for every table
the ledger keeps beside its events (views, tokens, webhooks, checkpoints, failures)."""
