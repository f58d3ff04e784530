"""`python -m ledger.bench …` is `ledger bench …`."""

from ledger.bench.command import bench

bench(prog_name="python -m ledger.bench")
