"""Commands are one union tagged by ``op`` (the batch operations' names) and each is decided by
one handler; the tag changes neither the stored request digests nor the single routes."""

from __future__ import annotations

import msgspec

from ledger.domain import commands as c
from ledger.domain.events import Artifact
from ledger.service.idempotency import digest
from ledger.service.unit_of_work import DECIDERS

BATCH_OPS = [
    "create_app",
    "record_build",
    "record_evidence",
    "refuse_delivery",
    "change_config",
    "set_flag",
    "deploy",
    "progress_rollout",
    "apply_migration",
    "rollback",
    "promote",
    "report_runtime",
    "set_policy",
    "approve_request",
    "reject_request",
    "expire_request",
]


def test_each_command_is_tagged_with_the_op_the_batch_api_accepts() -> None:
    assert list(c.OPS) == BATCH_OPS
    for op, command in c.OPS.items():
        assert command.__struct_config__.tag == op


def test_one_decode_of_the_union_picks_the_command_an_item_names() -> None:
    item = {"op": "set_flag", "app": "shop", "env": "prod", "flag": "beta", "enabled": True}
    assert msgspec.convert(item, c.AnyCommand) == c.SetFlag(
        app="shop", env="prod", flag="beta", enabled=True
    )


def test_every_command_has_exactly_one_handler() -> None:
    assert set(DECIDERS) == set(c.OPS.values())


def test_the_request_digest_kept_with_an_idempotency_key_is_what_it_was() -> None:
    """Stored digests answer repeats of requests sent before: the tag must not enter them."""
    deploy = c.Deploy(app="shop", env="prod", build_id="b1")
    config = c.ChangeConfig(app="shop", env="p", set={"B": "2", "A": "1"}, secret=["A"])
    build = c.RecordBuild(
        app="shop", commit="abcd", artifact=Artifact(digest="sha256:x"), status="succeeded"
    )
    assert digest(deploy) == "c90289cfe5cfddcb7755d61f4e5ce644584918e3cf2ed7e6e6412b82b56fe315"
    assert digest(config) == "e5e66fe7d28e64268b7a074665c16ffb6d32cf6602e5a1533e30b3a495019e0e"
    assert digest(build) == "7ca74bccad4fdc66f05204e0fb894af4b9b6e37a91d323d4a8efacd6c05458f6"
