"""`python -m ledger.bench …` is `ledger bench …`."""

from ledger.cli.bench import bench

bench(prog_name="python -m ledger.bench")
