"""`ledger witness`: run a witness of other ledgers' logs (c2sp.org/tlog-witness)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ledger.cli.client import BadConfiguration

DEFAULT_PORT = 8090
LOGS_HELP = (
    "A log to witness, by its verifier key (`origin+hash+base64`, as `ledger checkpoint` "
    "prints it); repeat for more [env LEDGER_WITNESS_LOGS: keys separated by commas or spaces]."
)


@click.command()
@click.option(
    "--name",
    envvar="LEDGER_WITNESS_NAME",
    required=True,
    help="The witness's name, the key name of its cosignatures: a schema-less URL such as "
    "witness.example.com/w1 [env LEDGER_WITNESS_NAME].",
)
@click.option("--log", "logs", multiple=True, help=LOGS_HELP)
@click.option(
    "--logs-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="LEDGER_WITNESS_LOGS_FILE",
    help="A file of logs' verifier keys, one a line, # for comments "
    "[env LEDGER_WITNESS_LOGS_FILE].",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LEDGER_WITNESS_DATA_DIR",
    default=Path(".witness"),
    show_default=True,
    help="Where the witness keeps witness.sqlite (the trees it cosigned) and witness.key "
    "[env LEDGER_WITNESS_DATA_DIR].",
)
@click.option("--host", envvar="LEDGER_WITNESS_HOST", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    envvar="LEDGER_WITNESS_PORT",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
)
@click.option(
    "--print-verifier-key",
    is_flag=True,
    help="Print the witness's verifier key (making its key on first use) and exit.",
)
def witness(
    name: str,
    logs: tuple[str, ...],
    logs_file: Path | None,
    data_dir: Path,
    host: str,
    port: int,
    print_verifier_key: bool,
) -> None:
    """Witness other ledgers' logs: cosign each checkpoint that is consistent with the last
    one cosigned of the same log, and refuse a rollback or a fork (c2sp.org/tlog-witness).

    Serves POST /add-checkpoint until interrupted. The key is LEDGER_WITNESS_KEY (base64 of
    a 32-byte Ed25519 private key), else DATA_DIR/witness.key, made on first start. Give each
    ledger the URL and the verifier key (--print-verifier-key) in LEDGER_WITNESSES.

    \b
    Examples:
      ledger witness --name witness.example.com/w1 --print-verifier-key
      ledger witness --name witness.example.com/w1 --log "$LEDGER_VERIFIER_KEY" --port 8090
    """
    # on demand: the other commands do without cryptography and aiohttp's server
    from ledger.witness.config import STATE_FILE, cosigner, parse_logs, read_logs_file, split_keys
    from ledger.witness.server import run_witness
    from ledger.witness.state import WitnessState
    from ledger.witness.witness import Witness

    try:
        signer = cosigner(name, os.environ.get("LEDGER_WITNESS_KEY") or None, data_dir)
        keys = [*logs, *split_keys(os.environ.get("LEDGER_WITNESS_LOGS"))]
        witnessed = parse_logs([*keys, *(read_logs_file(logs_file) if logs_file else [])])
    except ValueError as error:
        raise BadConfiguration(f"the witness is badly configured: {error}") from None
    if print_verifier_key:
        click.echo(signer.key.verifier_key)
        return
    if not witnessed:
        raise click.UsageError("name at least one log to witness (--log, --logs-file)")
    state = WitnessState(data_dir / STATE_FILE)
    level = os.environ.get("LEDGER_LOG_LEVEL") or "INFO"
    run_witness(Witness(signer, witnessed, state), host, port, level)
