"""`ledger bench`: the benchmarks' command, defined with them (the one way in from the CLI)."""

from ledger.bench.command import bench

__all__ = ["bench"]
