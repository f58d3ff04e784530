"""Benchmarks of the ledger, each against a raw reference measured in the same run
(`ledger bench`, `scripts/bench`): one module per scenario, `run` puts them together."""
