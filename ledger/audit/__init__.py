"""Tamper evidence: a Merkle tree over the log (one leaf per event), signed checkpoints of
it, inclusion and consistency proofs, and the verifier behind `ledger verify`."""

from __future__ import annotations

import logging

from ledger.audit.checkpointer import Checkpointer, create_tables
from ledger.audit.config import AuditSettings
from ledger.audit.proofs import AuditLog
from ledger.audit.signing import load_signer
from ledger.audit.witnessing import WitnessFollower
from ledger.eventstore.application import LedgerStore
from ledger.service.ownership import ownership
from ledger.settings import Settings
from ledger.sql.database import Database

__all__ = [
    "AuditLog",
    "AuditSettings",
    "Checkpointer",
    "WitnessFollower",
    "checkpointer_for",
    "open_audit",
    "witnesses_for",
]
log = logging.getLogger("ledger.audit")


async def open_audit(settings: Settings, database: Database) -> AuditLog:
    """Create the audit tables and load the signing key (generated on first start in
    embedded mode); without a key on PostgreSQL, say that checkpoints go unsigned."""
    await create_tables(database)
    signer = load_signer(settings, AuditSettings.from_env().signing_key, create=True)
    if signer is None:
        log.warning(
            "LEDGER_SIGNING_KEY is not set: checkpoints are written unsigned, so they show "
            "tampering to this ledger's verifier but prove nothing to a third party"
        )
    return AuditLog(database, signer)


def checkpointer_for(store: LedgerStore, audit: AuditLog) -> Checkpointer:
    """The checkpointer of this process, configured from LEDGER_CHECKPOINT_* variables."""
    config = AuditSettings.from_env()
    return Checkpointer(
        store,
        audit.database,
        audit.signer,
        every_events=config.every_events,
        every_seconds=config.every_seconds,
        ownership=ownership(store.settings.database_url, Checkpointer.name),
    )


def witnesses_for(settings: Settings, audit: AuditLog) -> WitnessFollower | None:
    """The follower that gets checkpoints cosigned by LEDGER_WITNESSES (None: no witness)."""
    follower = WitnessFollower.of(settings, audit)
    if follower is not None:
        follower.ownership = ownership(settings.database_url, WitnessFollower.name)
    return follower
