"""Connectors: receivers for the webhooks other tools already send (GitHub, Argo CD, flag
services), each verified by the tool's own scheme, idempotent on its delivery id, and turned
into the ledger's commands, which go through the same command path (and gates) as any write."""
