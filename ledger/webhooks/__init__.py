"""Webhooks: the change feed POSTed to receivers (Slack incoming webhooks or any JSON
endpoint), signed, in order, at least once, each webhook from its own position."""
