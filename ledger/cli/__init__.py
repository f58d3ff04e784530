"""The `ledger` command line: a thin client of the HTTP API, plus the local server and
maintenance commands that open the store directly (`serve`, `projections rebuild`)."""
