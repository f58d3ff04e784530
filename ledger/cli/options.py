"""Argument types and options shared by the commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, get_args

import click

from ledger.domain.events import ActorKind, Via
from ledger.domain.names import NAME_PATTERN
from ledger.domain.text import RULE, is_storable
from ledger.wire.shapes import HistoryKind

F = TypeVar("F", bound=Callable[..., Any])
KINDS: tuple[str, ...] = get_args(HistoryKind)
ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
CHANNELS: tuple[str, ...] = get_args(Via)


class NameType(click.ParamType[str]):
    """An app or environment name: lowercase letters, digits and dashes."""

    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not re.fullmatch(NAME_PATTERN, text):
            self.fail(
                f"{text!r} is not a valid name (lowercase letters, digits and '-', "
                "starting with a letter or digit, at most 63 characters)",
                param,
                ctx,
            )
        return text


class TimestampType(click.ParamType[str]):
    """An RFC 3339 timestamp with a time zone, e.g. 2024-05-07T14:03:00Z."""

    name = "rfc3339"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                example = "e.g. 2024-05-07T14:03:00Z"
                self.fail(f"{value!r} is not an RFC 3339 timestamp ({example})", param, ctx)
        if moment.tzinfo is None:
            self.fail(f"{value!r} has no time zone; add Z or an offset such as +02:00", param, ctx)
        return moment.isoformat()


class TextType(click.ParamType[str]):
    """Free text (a reason, a name, a filter): any characters the stores can keep. Others
    (NUL, lone surrogates, e.g. from bytes that are not UTF-8) end the command with one line."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not is_storable(text):
            where = max(param.opts, key=len) if param is not None and param.opts else "a value"
            raise click.ClickException(f"{where} {text!r}: {RULE}")
        return text


class PolicyAppType(NameType):
    """An app's name, or ``*``: the level of a policy every app inherits."""

    name = "app|*"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return "*" if str(value) == "*" else super().convert(value, param, ctx)


NAME = NameType()
POLICY_APP = PolicyAppType()
TIMESTAMP = TimestampType()
TEXT = TextType()


def json_option(command: F) -> F:
    """--json: print the server's JSON answer as it came."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the raw JSON answer instead of tables."
    )(command)


def history_filters(command: F) -> F:
    """The history's filters, shared by the commands that read it: --app, --env, --kind, …"""
    filters = (
        click.option("--app", type=NAME, help="Only changes of this app."),
        click.option("--env", type=NAME, help="Only changes in this environment."),
        click.option("--kind", type=click.Choice(KINDS), help="Only changes of this kind."),
        click.option("--actor", type=TEXT, help="Only changes made by this actor."),
        click.option(
            "--actor-kind", type=click.Choice(ACTOR_KINDS), help="Only changes by this kind."
        ),
        click.option(
            "--via", type=click.Choice(CHANNELS), help="Only changes sent through this channel."
        ),
        click.option(
            "--correlation-id",
            type=TEXT,
            help="Only changes of this pipeline run (correlation id).",
        ),
        click.option(
            "--since", type=TIMESTAMP, help="Only changes recorded at or after this time."
        ),
        click.option("--until", type=TIMESTAMP, help="Only changes recorded before this time."),
    )
    for option in reversed(filters):  # the last applied is listed first in --help
        command = option(command)
    return command


def print_json(text: str) -> None:
    click.echo(text.rstrip("\n"))


_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


class DurationType(click.ParamType[float]):
    """A duration in seconds: ``90``, ``90s``, ``5m`` or ``1h``."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(value))
        if not found or float(found.group(1)) <= 0:
            self.fail(f"{value!r} is not a duration (e.g. 60s, 5m, 1h)", param, ctx)
        return float(found.group(1)) * _SECONDS[found.group(2)]


DURATION = DurationType()
