"""Reporters of what actually runs: they read an environment (Kubernetes pods, or what a person
says) and post a runtime report to the ledger. Client side only; the server never imports them."""
