"""Wire shapes clients rely on: the JSON of the HTTP API and the CloudEvents the ledger sends."""
