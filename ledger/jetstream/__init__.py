"""NATS JetStream: publishing every ledger event, and ingest by request-reply."""
