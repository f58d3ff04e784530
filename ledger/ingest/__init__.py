"""CDEvents ingest: CloudEvents from CI/CD tools (HTTP and NATS) onto the ledger's commands."""
