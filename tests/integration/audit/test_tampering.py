"""Tampering with stored events is detected and located: the verifier names the position, the
stream and the version of each event that was changed, deleted, swapped or forged."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.audit import Checkpointer, verifier
from ledger.audit.checkpointer import TreeMismatch
from ledger.domain.chain import GENESIS
from ledger.domain.names import app_id, environment_id

SHOP_PROD = environment_id("shop", "prod")
SHOP_STAGING = environment_id("shop", "staging")
API = app_id("api")


async def checkpointed(story: Any, checkpointer: Checkpointer) -> None:
    """The story written, every event in the tree, and a signed checkpoint of it."""
    await story.begins()
    await story.ends()
    await checkpointer.catch_up()
    assert await checkpointer.checkpoint() is not None


async def test_an_untouched_log_verifies(story: Any, checkpointer: Checkpointer, verify: Any):
    await checkpointed(story, checkpointer)
    report = verify()
    assert report.ok, report.problems
    assert report.problems == []
    assert report.events == report.head == report.latest_checkpoint.tree_size
    assert report.signature == "valid"
    assert report.uncovered == 0
    # apps shop and api, builds b1, b2 and a1 and their artifacts, shop/prod, shop/staging
    assert report.streams == 10
    assert report.events_per_second > 0


async def test_a_changed_field_names_the_event(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    deploy = tamperer.of(SHOP_PROD)[1]  # v2: the deploy of b1, followed by more events
    tamperer.edit(deploy.position, actor="mallory")

    report = verify()
    assert not report.ok
    changed = named(report, "leaf", position=deploy.position, stream_id=SHOP_PROD, version=2)
    assert changed and "changed after it was checkpointed" in changed[0].detail
    assert changed[0].app == "shop" and changed[0].env == "prod"
    after = tamperer.of(SHOP_PROD)[2]
    broken = named(report, "chain", position=after.position, stream_id=SHOP_PROD, version=3)
    assert broken and "is not the hash of version 2" in broken[0].detail
    assert named(report, "tree", tree_size=report.latest_checkpoint.tree_size)
    assert any("leaf records match every checkpoint" in w for w in report.warnings)


async def test_a_changed_last_event_of_a_stream_is_caught_by_the_tree_alone(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    last = tamperer.of(SHOP_PROD)[-1]  # no later event links to it
    tamperer.edit(last.position, reason="nothing to see")
    report = verify()
    assert not report.ok
    assert named(report, "leaf", position=last.position, stream_id=SHOP_PROD, version=last.version)
    assert not named(report, "chain")


async def test_a_deleted_event_is_named_by_position_and_by_its_stream(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    deleted = tamperer.of(SHOP_PROD)[1]
    tamperer.delete(deleted.position)

    report = verify()
    assert not report.ok
    missing = named(report, "leaf", position=deleted.position)
    assert missing and "deleted" in missing[0].detail
    gap = named(report, "stream", stream_id=SHOP_PROD, version=3)
    assert gap and "version 2 is missing" in gap[0].detail
    assert report.events == report.latest_checkpoint.tree_size - 1


async def test_a_deleted_tail_is_caught_by_the_checkpoint(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    last = tamperer.rows()[-1]
    tamperer.delete(last.position)
    report = verify()
    assert not report.ok
    assert named(report, "leaf", position=last.position)
    assert named(report, "checkpoint", tree_size=report.latest_checkpoint.tree_size)


async def test_swapped_states_name_both_events(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    prod, staging = tamperer.of(SHOP_PROD)[1], tamperer.of(SHOP_STAGING)[0]
    tamperer.swap(prod.position, staging.position)

    report = verify()
    assert not report.ok
    for row in (prod, staging):
        misfiled = named(
            report, "event", position=row.position, stream_id=row.stream, version=row.version
        )
        assert misfiled and "but its content is stream" in misfiled[0].detail
        assert named(report, "leaf", position=row.position)


async def test_an_event_forged_into_a_gap_with_a_valid_chain_is_caught_by_the_tree(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await story.begins()
    gap = tamperer.leave_a_gap()
    await story.ends()
    tamperer.close_gap(gap)
    await checkpointer.catch_up()
    await checkpointer.checkpoint()
    assert verify().ok

    created = tamperer.of(API)[0]  # the api app's only event, written before the gap
    forged = tamperer.forge(
        created, originator_version=2, prev_hash=tamperer.hash_of(created), description="forged"
    )
    tamperer.insert(forged, at=gap)

    report = verify()
    assert not report.ok
    assert not named(report, "chain") and not named(report, "stream")  # a careful forger
    inserted = named(report, "leaf", position=gap, stream_id=API, version=2)
    assert inserted and "inserted afterwards" in inserted[0].detail


async def test_a_forged_event_appended_with_a_guessed_link_is_named(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    last = tamperer.of(SHOP_PROD)[-1]
    forged = tamperer.forge(last, originator_version=last.version + 1, prev_hash=GENESIS)
    tamperer.insert(forged)

    report = verify()
    assert not report.ok
    position = tamperer.rows()[-1].position
    broken = named(
        report, "chain", position=position, stream_id=SHOP_PROD, version=last.version + 1
    )
    assert broken
    assert report.uncovered == 1
    assert any("not yet covered" in w for w in report.warnings)


async def test_an_edited_checkpoint_fails_its_signature(
    story: Any, checkpointer: Checkpointer, verify: Any, audit: Any, named: Any
) -> None:
    """The note relabelled as another log's (its origin, also its key name)."""
    await checkpointed(story, checkpointer)
    size = checkpointer.tree_size
    await audit.database.execute(
        "UPDATE ledger_checkpoints SET note = replace(note, $1, $2) WHERE tree_size = $3",
        checkpointer.origin,
        "forged.example/prod",
        size,
    )
    report = verify()
    assert not report.ok
    assert report.signature == "invalid"
    assert named(report, "signature", tree_size=size)


async def test_an_event_rewritten_with_its_leaf_is_still_caught(
    story: Any,
    store: Any,
    checkpointer: Checkpointer,
    verify: Any,
    tamperer: Any,
    audit: Any,
    named: Any,
) -> None:
    """A forger who also rewrites the leaf cannot re-sign the checkpoint."""
    await checkpointed(story, checkpointer)
    deploy = tamperer.of(SHOP_PROD)[1]
    tamperer.edit(deploy.position, actor="mallory")
    edited = next(r for r in tamperer.rows() if r.position == deploy.position)
    await audit.database.execute(
        "UPDATE ledger_merkle_leaves SET event_hash = $1 WHERE position = $2",
        tamperer.hash_of(edited),
        deploy.position,
    )
    report = verify()
    assert not report.ok
    assert named(report, "tree")
    assert named(report, "chain", stream_id=SHOP_PROD, version=3)
    assert any("leaf records do not match" in w for w in report.warnings)

    restarted = Checkpointer(store, audit.database, audit.signer)
    with pytest.raises(TreeMismatch):  # it never signs over a rewritten history
        await restarted.load_position()


async def test_a_garbled_event_is_named_and_the_rest_still_checked(
    story: Any, checkpointer: Checkpointer, verify: Any, tamperer: Any, named: Any
) -> None:
    await checkpointed(story, checkpointer)
    garbled, after = tamperer.of(SHOP_PROD)[1:3]
    tamperer.overwrite(garbled.position, b'{"not": "an event"')
    report = verify()
    assert not report.ok
    undecodable = named(report, "event", position=garbled.position, stream_id=SHOP_PROD, version=2)
    assert undecodable and "does not decode" in undecodable[0].detail
    assert undecodable[0].app == "shop"  # known from the stream's earlier events
    assert named(report, "leaf", position=garbled.position)
    assert not named(report, "chain", position=after.position)  # its link cannot be judged
    assert report.events == report.latest_checkpoint.tree_size


async def test_worker_processes_find_the_same_problems(
    story: Any,
    store: Any,
    checkpointer: Checkpointer,
    verify: Any,
    tamperer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await checkpointed(story, checkpointer)
    rows = tamperer.of(SHOP_PROD)
    tamperer.delete(rows[1].position)
    tamperer.edit(rows[3].position, actor="mallory")
    alone = verify()
    monkeypatch.setattr(verifier, "PARALLEL_FROM", 0)
    monkeypatch.setattr(verifier, "BATCH", 3)  # several ranges, read by two workers
    in_workers = verifier.verify_log(store, None, jobs=2)
    assert in_workers.problems == alone.problems
    assert in_workers.events == alone.events


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
async def test_the_problems_found_do_not_depend_on_where_batches_end(
    story: Any,
    checkpointer: Checkpointer,
    verify: Any,
    tamperer: Any,
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
) -> None:
    await checkpointed(story, checkpointer)
    rows = tamperer.of(SHOP_PROD)
    for garbled in rows[1:3]:  # two in a row: the second's app is known from before both
        tamperer.overwrite(garbled.position, b'{"not": "an event"')
    tamperer.edit(rows[4].position, actor="mallory")
    whole = verify()
    monkeypatch.setattr(verifier, "BATCH", batch)  # each stream's first event in a batch
    cut = verify()  # is checked against the batches before, every other one within its own
    assert cut.problems == whole.problems
    in_prod = [p for p in cut.problems if p.stream_id == str(SHOP_PROD)]
    assert len(in_prod) >= 4 and all((p.app, p.env) == ("shop", "prod") for p in in_prod)


async def test_the_checkpointer_refuses_to_regrow_deleted_leaves(
    story: Any, store: Any, checkpointer: Checkpointer, audit: Any
) -> None:
    await checkpointed(story, checkpointer)
    await audit.database.execute("DELETE FROM ledger_merkle_leaves WHERE leaf_index >= 3")
    restarted = Checkpointer(store, audit.database, audit.signer)
    with pytest.raises(TreeMismatch, match="before checkpoint"):
        await restarted.load_position()
