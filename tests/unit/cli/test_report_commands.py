"""`ledger report static` pairs instances with digests as documented, and durations of
`--every` read as a person writes them."""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from ledger.cli.options import DURATION

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def static(*args: str) -> list[dict[str, Any]]:
    """The instances `ledger report static --dry-run` would send."""
    base = ("report", "static", "--env", "prod", "--app", "shop", "--dry-run")
    done = CliRunner().invoke(cli, [*base, *args], env={"LEDGER_URL": "http://127.0.0.1:9"})
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    instances: list[dict[str, Any]] = body["workloads"][0]["instances"]
    return instances


def test_one_digest_per_instance_pairs_them_in_order() -> None:
    pairs = static("--digest", A, "--digest", B, "--instance", "vm-1", "--instance", "vm-2")
    assert [(i["id"], i["artifact_digest"]) for i in pairs] == [("vm-1", A), ("vm-2", B)]


def test_without_instances_each_digest_is_one_instance_named_after_it() -> None:
    pairs = static("--digest", A, "--digest", B)
    assert [(i["id"], i["artifact_digest"]) for i in pairs] == [
        ("shop-aaaaaaaaaaaa", A),
        ("shop-bbbbbbbbbbbb", B),
    ]


@pytest.mark.parametrize(
    ("text", "seconds"), [("60", 60.0), ("60s", 60.0), ("5m", 300.0), ("1h", 3600.0), ("0.5s", 0.5)]
)
def test_durations_in_seconds_minutes_or_hours(text: str, seconds: float) -> None:
    assert DURATION.convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["0", "-5s", "5d", "soon", ""])
def test_what_is_no_positive_duration_is_refused(text: str) -> None:
    with pytest.raises(click.BadParameter):
        DURATION.convert(text, None, None)
