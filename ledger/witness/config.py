"""What a witness is told: its name, its key, and the logs it witnesses (each by the log's
verifier key, whose key name is the log's origin, as the ledger's is)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from ledger.audit.cosigning import Cosigner
from ledger.audit.signing import Signer, file_signer
from ledger.domain.notes import parse_verifier_key

KEY_FILE = "witness.key"
STATE_FILE = "witness.sqlite"


class WitnessedLog(NamedTuple):
    """A log this witness cosigns: its origin (the key name) and the key of its checkpoints."""

    origin: str
    public_key: bytes


def parse_logs(verifier_keys: Iterable[str]) -> dict[str, list[WitnessedLog]]:
    """The logs of the given verifier keys by origin (a log may have more than one key);
    ValueError naming a key that is not a log's Ed25519 verifier key."""
    logs: dict[str, list[WitnessedLog]] = {}
    for text in verifier_keys:
        try:
            origin, public_key = parse_verifier_key(text)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a log's verifier key: {error}") from None
        logs.setdefault(origin, []).append(WitnessedLog(origin, public_key))
    return logs


def read_logs_file(path: Path) -> list[str]:
    """The verifier keys of a logs file: one a line; blank lines and ``#`` comments skipped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def split_keys(text: str | None) -> list[str]:
    """Verifier keys separated by commas or whitespace (LEDGER_WITNESS_LOGS)."""
    return (text or "").replace(",", " ").split()


def cosigner(name: str, private_key: str | None, data_dir: Path) -> Cosigner:
    """The witness's cosigner: the key given (base64 of 32 bytes), else the key file in the
    data directory, generated on first start (mode 0600)."""
    signer = Signer.from_base64(private_key) if private_key else None
    if signer is None:
        signer = file_signer(data_dir / KEY_FILE, create=True)
    assert signer is not None  # created when missing
    return Cosigner(name, signer)
