"""`ledger config set|unset`: a config change, which is a new release. A value may come from a
file or stdin, so that a secret never sits in the shell's history or the process list."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from ledger.cli import writes
from ledger.cli.client import env_path
from ledger.cli.options import NAME, TEXT
from ledger.domain.secrets import is_secret
from ledger.domain.text import RULE, is_storable

STDIN = "@-"
SHOWN_KEYS = 5


@click.group()
def config() -> None:
    """Change the config of an environment: each change is a new release."""


@config.command("set")
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.argument("pairs", metavar="KEY=VALUE...", nargs=-1, required=True)
@click.option(
    "--secret", "secrets", metavar="KEY", multiple=True,
    help="KEY's value is secret: shown only as a fingerprint (repeatable). Keys named "
    "*_SECRET, *_TOKEN, *_PASSWORD, *_KEY and DATABASE_URL are secret anyway.",
)  # fmt: skip
@click.option("--reason", type=TEXT, help="Why; recorded with the change.")
@writes.write_options
def set_config(
    app: str,
    env: str,
    pairs: tuple[str, ...],
    secrets: tuple[str, ...],
    reason: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Set config KEYs of APP in ENV: a new release with the new config (config:write).

    \b
    A VALUE is taken as written, except:
      KEY=@FILE   the content of FILE (one trailing newline dropped)
      KEY=@-      stdin (one trailing newline dropped); one key at most
      KEY=@@TEXT  the text @TEXT (a value that begins with @)
    so that a secret never appears in the shell's history or the process list.

    \b
    Examples:
      ledger config set shop prod TIMEOUT=30 FEATURE_X=on --reason "slower upstream"
      ledger config set shop prod DB_PASSWORD=@/run/secrets/db --reason rotation
      vault kv get -field=key secret/stripe | ledger config set shop prod STRIPE_KEY=@-
    """
    values, from_files = _values(pairs)
    body: dict[str, Any] = {"set": values}
    if secrets:
        body["secret"] = list(secrets)
    if reason is not None:
        body["reason"] = reason
    hidden = {k for k in values if k in from_files or is_secret(k, secrets)}
    keyed = body | {"set": {k: None if k in hidden else v for k, v in values.items()}}
    write = writes.Write("POST", env_path(app, env) + "/config", body, keyed=keyed)
    said = f"set {_listed(list(values))} in {app}/{env}"
    writes.report(writes.send(write, idempotency_key), as_json, lambda w: _released(said, w))


@config.command("unset")
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.argument("keys", metavar="KEY...", nargs=-1, required=True)
@click.option("--reason", type=TEXT, help="Why; recorded with the change.")
@writes.write_options
def unset_config(
    app: str,
    env: str,
    keys: tuple[str, ...],
    reason: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Remove config KEYs of APP in ENV: a new release without them (config:write).

    \b
    Examples:
      ledger config unset shop prod LEGACY_CART --reason "cart v2 everywhere"
    """
    body: dict[str, Any] = {"unset": list(dict.fromkeys(keys))}
    if reason is not None:
        body["reason"] = reason
    write = writes.Write("POST", env_path(app, env) + "/config", body)
    said = f"unset {_listed(body['unset'])} in {app}/{env}"
    writes.report(writes.send(write, idempotency_key), as_json, lambda w: _released(said, w))


def _values(pairs: Sequence[str]) -> tuple[dict[str, str], set[str]]:
    """Each KEY=VALUE's key and value, and the keys whose value came from a file or stdin."""
    values: dict[str, str] = {}
    from_files: set[str] = set()
    if sum(1 for pair in pairs if pair.partition("=")[2] == STDIN) > 1:
        raise click.UsageError(f"only one KEY={STDIN} can read stdin")
    for pair in pairs:
        key, equals, given = pair.partition("=")
        if not key or not equals:
            raise click.UsageError(f"{pair!r} is not KEY=VALUE")
        if key in values:
            raise click.UsageError(f"{key} is set twice")
        values[key] = _value(key, given)
        if given.startswith("@") and not given.startswith("@@"):
            from_files.add(key)
    return values, from_files


def _value(key: str, given: str) -> str:
    """The value KEY=GIVEN stands for: GIVEN, @@… unescaped, or a file's or stdin's text."""
    if given.startswith("@@"):
        value = given[1:]
    elif given == STDIN:
        value = _without_newline(sys.stdin.read())
    elif given.startswith("@"):
        value = _without_newline(_read(key, given[1:]))
    else:
        value = given
    if not is_storable(value):
        raise click.ClickException(f"the value of {key}: {RULE}")  # never the value itself
    return value


def _read(key: str, path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as error:
        raise click.ClickException(f"{key}=@{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{key}=@{path}: not UTF-8 text") from None


def _without_newline(text: str) -> str:
    return text.removesuffix("\n").removesuffix("\r")


def _listed(keys: list[str]) -> str:
    """The keys changed: a few by name, the rest counted."""
    more = len(keys) - SHOWN_KEYS
    shown = ", ".join(keys[:SHOWN_KEYS])
    return f"{shown} and {more} more" if more > 0 else shown


def _released(said: str, written: Mapping[str, Any]) -> str:
    """``set TIMEOUT in shop/prod: release v43 (config v5)``."""
    release = written.get("release") or {}
    return f"{said}: release v{release.get('version')} (config v{release.get('config_version')})"
