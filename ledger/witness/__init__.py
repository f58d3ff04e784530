"""`ledger witness`: a witness of other ledgers' logs, speaking c2sp.org/tlog-witness.

It keeps the last tree it cosigned for each log it witnesses (by origin, in a SQLite file of
its own), checks each new checkpoint's signature with the log's key and the consistency proof
from that tree to the new one, refuses a rollback or a fork, and cosigns
(c2sp.org/tlog-cosignature)."""
