"""The ledger's domain: aggregates, events and the rules of releases. Pure: no I/O."""
