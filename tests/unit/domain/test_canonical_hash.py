"""Hash schemes 2 and 3: an event's hash is SHA-256 of the RFC 8785 canonical JSON of its
form, which anyone can recompute with any JCS implementation; events stored before keep their
scheme (1 or 2); new ones are scheme 3 (secret values committed: ``test_commitments``)."""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from datetime import timedelta
from typing import Any
from uuid import uuid4

import msgspec
import msgspec.inspect as mi
import pytest
import rfc8785

import ledger.domain
from ledger.domain import commands as c
from ledger.domain.canonical import canonical_json, event_form
from ledger.domain.chain import GENESIS, event_hash, legacy_hash
from ledger.domain.events import EVENTS, LedgerEvent
from ledger.domain.gate_events import GATE_EVENTS
from ledger.domain.names import CONFIG_KEY_PATTERN

from .conftest import START


@pytest.fixture
def busy(given):
    """Every kind of environment event, a build, an app, and text of every sort."""
    given.build("b1").config({"A": "1", "GREETING": 'grüß dich \u2028 \x7f 😀 "q" \\ \t'})
    given.deploy("b1").flag("f", True, percent=5).deploy("b1", env="staging")
    given.migration("m1", reversible=False).build("b2").deploy("b2", strategy="canary")
    return given.rollout(3, status="completed").rollback(to=2, force=True)


def jcs_sha256(form: Any) -> str:
    """The hash of a form, computed the way a third party would: RFC 8785, then SHA-256."""
    return hashlib.sha256(rfc8785.dumps(form)).hexdigest()


def test_a_new_events_hash_is_sha256_of_the_jcs_of_its_documented_form(ledger) -> None:
    """The form built by hand from the documentation, not by the ledger's functions."""
    context = c.Context(actor="ci-bot", actor_kind="ci", correlation_id="run-7")
    ledger.execute(c.CreateApp(app="shop"), context)
    event = ledger.execute(c.SetFlag(app="shop", env="prod", flag="beta", enabled=True), context)
    assert event is not None and event.hash_scheme == 3
    recorded = (START + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    form = {
        "type": "FlagChanged",
        "event": {
            "originator_id": str(event.originator_id),
            "originator_version": 1,
            "timestamp": recorded,
            "event_id": str(event.event_id),
            "app": "shop",
            "env": "prod",
            "actor": "ci-bot",
            "actor_kind": "ci",
            "occurred_at": recorded,
            "correlation_id": "run-7",
            "prev_hash": GENESIS,
            "hash_scheme": 3,
            "flag": "beta",
            "enabled": True,
        },
    }
    assert event_hash(event) == jcs_sha256(form)


def test_every_new_event_hashes_as_rfc8785_says(busy, then) -> None:
    assert {e.hash_scheme for e in then.ledger.events} == {3}
    for event in then.ledger.events:
        assert canonical_json(event) == rfc8785.dumps(event_form(event))
        assert event_hash(event) == jcs_sha256(event_form(event))


TEXT = 'text é 😀 \u2028 "q" \\ \t\x00'


def sample(info: mi.Type) -> Any:
    """A value of every field of a type, built without validation (so any text will do)."""
    if isinstance(info, mi.StructType):
        return info.cls(**{f.name: sample(f.type) for f in info.fields})
    if isinstance(info, mi.UnionType):
        return sample(next(t for t in info.types if not isinstance(t, mi.NoneType)))
    if isinstance(info, mi.ListType | mi.VarTupleType):
        item = sample(info.item_type)
        return [item] if isinstance(info, mi.ListType) else (item,)
    if isinstance(info, mi.DictType):
        return {"B_KEY": sample(info.value_type), "A": sample(info.value_type)}
    simple = {
        mi.StrType: TEXT,
        mi.IntType: 2**53 - 1,
        mi.BoolType: True,
        mi.UUIDType: uuid4(),
        mi.DateTimeType: START.replace(microsecond=120000),
    }
    if isinstance(info, mi.LiteralType):
        return info.values[-1]
    return simple[type(info)]


@pytest.mark.parametrize("cls", [*EVENTS, *GATE_EVENTS], ids=lambda cls: cls.__name__)
def test_every_event_type_hashes_as_rfc8785_says(cls: type[LedgerEvent]) -> None:
    """Every field of every event type filled: msgspec writes exactly what JCS writes."""
    event = sample(mi.type_info(cls))
    assert canonical_json(event) == rfc8785.dumps(event_form(event))


def test_an_event_stored_before_the_upgrade_keeps_scheme_1_and_its_hash(busy, then) -> None:
    """No ``hash_scheme`` in the stored JSON: the event decodes with 1, hashed as before."""
    for event in then.ledger.events:
        old = msgspec.structs.replace(event, hash_scheme=1)
        stored = msgspec.json.encode(old)
        assert b"hash_scheme" not in stored
        decoded = msgspec.json.decode(stored, type=type(event))
        assert decoded.hash_scheme == 1
        assert event_hash(decoded) == legacy_hash(decoded) != event_hash(event)


@pytest.mark.parametrize(
    "edit",
    [{"actor": "mallory"}, {"prev_hash": "1" * 64}, {"hash_scheme": 1}, {"app": "shop2"}],
)
def test_any_edit_of_a_new_event_changes_its_hash(busy, then, edit) -> None:
    event = then.ledger.events[-1]
    assert event_hash(msgspec.structs.replace(event, **edit)) != event_hash(event)


def test_an_unknown_hash_scheme_is_an_error_not_a_hash(busy, then) -> None:
    event = msgspec.structs.replace(then.ledger.events[-1], hash_scheme=4)
    with pytest.raises(ValueError, match="hash scheme 4"):
        event_hash(event)


def test_msgspec_escapes_every_character_as_rfc8785_does() -> None:
    """Every code point but the surrogates, which neither can encode."""
    text = "".join(chr(n) for n in range(0x110000) if not 0xD800 <= n <= 0xDFFF)
    assert msgspec.json.encode(text) == rfc8785.dumps(text)
    for lone in ("\ud800", "a\udfff"):
        with pytest.raises(UnicodeEncodeError):
            msgspec.json.encode(lone)
        with pytest.raises(rfc8785.CanonicalizationError):
            rfc8785.dumps(lone)


ALLOWED = (
    mi.StrType, mi.IntType, mi.BoolType, mi.NoneType, mi.UUIDType, mi.DateTimeType,
    mi.LiteralType, mi.StructType, mi.UnionType, mi.ListType, mi.TupleType, mi.VarTupleType,
    mi.DictType,
)  # fmt: skip
CONFIG_MAPS = {"ConfigChanged.set", "ReleaseCreated.restored_config", "ChangeConfig.set"}
"""The only maps in events: config, keyed by config keys (ASCII, so sorted alike by code
point and by UTF-16 code unit). The events' copies of a ChangeConfig's map are typed plainly."""


def kinds_in(cls: type) -> tuple[set[type], set[str]]:
    """The msgspec type kinds anywhere in an event type, and where its maps are."""
    kinds: set[type] = set()
    maps: set[str] = set()
    pending: list[tuple[str, mi.Type]] = [(cls.__name__, mi.type_info(cls))]
    seen: set[type] = set()
    while pending:
        where, info = pending.pop()
        kinds.add(type(info))
        if isinstance(info, mi.StructType) and info.cls not in seen:
            seen.add(info.cls)
            pending += [(f"{info.cls.__name__}.{f.name}", f.type) for f in info.fields]
        elif isinstance(info, mi.UnionType):
            pending += [(where, t) for t in info.types]
        elif isinstance(info, mi.ListType | mi.VarTupleType):
            pending.append((where, info.item_type))
        elif isinstance(info, mi.TupleType):
            pending += [(where, t) for t in info.item_types]
        elif isinstance(info, mi.DictType):
            maps.add(where)
            pending.append((where, info.value_type))
            if where == "ChangeConfig.set":
                assert isinstance(info.key_type, mi.StrType)
                assert info.key_type.pattern == CONFIG_KEY_PATTERN
    return kinds, maps


def test_events_hold_only_what_msgspec_writes_as_rfc8785_does() -> None:
    """No floats, bytes, sets or untyped values; maps only of config keys."""
    assert CONFIG_KEY_PATTERN.isascii() and "\\u" not in CONFIG_KEY_PATTERN
    for cls in (*EVENTS, *GATE_EVENTS):
        kinds, maps = kinds_in(cls)
        assert kinds <= set(ALLOWED), (cls.__name__, kinds - set(ALLOWED))
        assert maps <= CONFIG_MAPS, (cls.__name__, maps)


def test_every_event_type_is_listed() -> None:
    """So that the check above sees a new event type too."""
    for module in pkgutil.walk_packages(ledger.domain.__path__, "ledger.domain."):
        importlib.import_module(module.name)
    pending, found = [LedgerEvent], set()
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    assert {cls for cls in found if cls.__module__.startswith("ledger.")} <= {
        *EVENTS,
        *GATE_EVENTS,
    }
