"""Each event reads as one line a person understands: who did what, where."""

from __future__ import annotations

import msgspec
import pytest

from ledger.domain.events import LedgerEvent, ReleaseCreated
from ledger.domain.model import Environment, evolve
from ledger.domain.policy import Rules
from ledger.domain.secrets import Fingerprints
from projections.projectors import ViewChanges
from projections.summaries import Context, summarize

FINGERPRINTS = Fingerprints(b"unit-test-key")
fingerprint = FINGERPRINTS.fingerprint
CONTEXT = Context(fingerprints=FINGERPRINTS)


def test_a_deploy_names_the_release_the_short_commit_and_the_environment(events) -> None:
    assert summarize(events.release("prod", 42), CONTEXT) == (
        "ci-bot deployed shop v42 (a1b2c3d) to prod"
    )


def test_a_canary_deploy_shows_its_first_step(events) -> None:
    event = events.release("prod", 42, steps=(1, 10, 50, 100))
    assert summarize(event, CONTEXT) == "ci-bot deployed shop v42 (a1b2c3d) to prod — canary 1%"


def test_a_rollback_names_target_new_version_and_reason(events) -> None:
    event = events.release(
        "prod", 43, cause="rollback", rollback_of=40, actor="alice", reason="payment errors"
    )
    assert summarize(event, CONTEXT) == (
        "alice rolled back shop prod to v40 (as v43): payment errors"
    )


def test_a_forced_rollback_names_the_irreversible_migrations_it_crossed(events) -> None:
    event = events.release(
        "prod", 43, cause="rollback", rollback_of=40, actor="alice", reason="bad", crossed=("m7",)
    )
    assert summarize(event, CONTEXT) == (
        "alice rolled back shop prod to v40 (as v43, forced past irreversible m7): bad"
    )


def test_a_promotion_names_both_environments(events) -> None:
    event = events.release("prod", 7, cause="promote", promoted_from="staging")
    assert summarize(event, CONTEXT) == "ci-bot promoted shop v7 (a1b2c3d) from staging to prod"


@pytest.mark.parametrize(
    ("enabled", "percent", "expected"),
    [
        (True, 25, "bob turned flag new-checkout on for 25% in shop prod"),
        (True, None, "bob turned flag new-checkout on in shop prod"),
        (False, None, "bob turned flag new-checkout off in shop prod"),
    ],
)
def test_a_flag_flip(events, enabled: bool, percent: int | None, expected: str) -> None:
    assert summarize(events.flag("prod", "new-checkout", enabled, percent), CONTEXT) == expected


def test_a_build(events) -> None:
    assert summarize(events.build("b1"), CONTEXT) == (
        "ci-bot recorded build b1 of shop (a1b2c3d, succeeded)"
    )


@pytest.mark.parametrize(
    ("reversible", "expected"),
    [
        (False, "ci-bot applied migration m7 to shop prod (schema 42, irreversible)"),
        (True, "ci-bot applied migration m7 to shop prod (schema 42, reversible)"),
    ],
)
def test_a_migration(events, reversible: bool, expected: str) -> None:
    assert summarize(events.migration("prod", "m7", "42", reversible), CONTEXT) == expected


@pytest.mark.parametrize(
    ("percent", "status", "expected"),
    [
        (50, "rolling_out", "ci-bot moved shop prod v42 to 50%"),
        (100, "succeeded", "ci-bot completed the rollout of shop prod v42"),
        (0, "aborted", "ci-bot aborted the rollout of shop prod v42"),
        (0, "failed", "ci-bot marked the rollout of shop prod v42 as failed"),
    ],
)
def test_a_rollout_step(events, percent: int, status: str, expected: str) -> None:
    assert summarize(events.rollout("prod", 42, percent, status), CONTEXT) == expected


def test_an_app(events) -> None:
    assert summarize(events.app(actor="alice"), CONTEXT) == "alice created app shop"


def test_a_denied_command_says_who_was_refused_what_and_why(events) -> None:
    event = events.denied("prod", "ChangeConfig", "prod is protected")
    assert summarize(event, CONTEXT) == (
        "bob was denied change config in shop prod: prod is protected"
    )


def _staging(events, config: dict[str, str], secret: tuple[str, ...] = ()) -> Environment:
    state = evolve(None, events.config("staging", 1, 1, set=config, secret=secret))
    assert isinstance(state, Environment)
    return state


def test_a_config_change_lists_keys_added_changed_and_removed(events) -> None:
    before = _staging(events, {"TIMEOUT": "5", "OLD_KEY": "x", "SAME": "1"})
    event = events.config(
        "staging", 17, 2, set={"FEATURE_X": "on", "TIMEOUT": "10", "SAME": "1"}, unset=("OLD_KEY",)
    )
    assert summarize(event, CONTEXT, before) == (
        "3 config keys changed in shop staging (v17): +FEATURE_X, ~TIMEOUT, -OLD_KEY"
    )


def test_a_secret_key_shows_by_name_never_by_value(events) -> None:
    event = events.config("staging", 1, 1, set={"DB_PASSWORD": "hunter2-secret"})
    assert summarize(event, CONTEXT, None) == (
        "1 config key changed in shop staging (v1): +DB_PASSWORD"
    )


def test_a_secret_that_keeps_its_value_is_not_listed_as_changed(events) -> None:
    before = _staging(events, {"LICENSE": fingerprint("l-1"), "A": "1"}, secret=("LICENSE",))
    event = events.config("staging", 2, 2, set={"LICENSE": "l-1", "A": "2"})
    assert summarize(event, CONTEXT, before) == ("1 config key changed in shop staging (v2): ~A")


def test_declaring_a_kept_key_secret_shows_as_a_change(events) -> None:
    before = _staging(events, {"LICENSE": "l-1"})
    event = events.config("staging", 2, 2, secret=("LICENSE",))
    assert summarize(event, CONTEXT, before) == (
        "1 config key changed in shop staging (v2): ~LICENSE (now secret)"
    )


def test_a_long_config_change_lists_the_first_keys_and_counts_the_rest(events) -> None:
    event = events.config("staging", 1, 1, set={f"K{i:02}": "v" for i in range(14)})
    assert summarize(event, CONTEXT, None) == (
        "14 config keys changed in shop staging (v1): "
        "+K00, +K01, +K02, +K03, +K04, +K05, +K06, +K07, +K08, +K09, … (4 more)"
    )


# --------------------------------------------------------------------------------------------
# What people want to read in a channel: descriptions, rollbacks, builds that skipped a stage


def _described(event: ReleaseCreated, description: str) -> ReleaseCreated:
    return msgspec.structs.replace(
        event, release=msgspec.structs.replace(event.release, description=description)
    )


def test_a_deploy_quotes_its_description_beside_the_commit(events) -> None:
    event = _described(events.release("prod", 42, steps=(10, 50, 100)), "fix checkout total")
    assert summarize(event, CONTEXT) == (
        'ci-bot deployed shop v42 (a1b2c3d "fix checkout total") to prod — canary 10%'
    )


def test_a_long_description_is_cut_to_one_short_line(events) -> None:
    event = _described(events.release("staging", 3), "word " * 40 + "\nsecond line")
    summary = summarize(event, CONTEXT)
    assert "\n" not in summary and len(summary) < 120 and '…") to staging' in summary


def _after_rollback(events) -> Environment:
    state = None
    for event in (
        events.release("prod", 1),
        events.release("prod", 2),
        events.release("prod", 3, cause="rollback", rollback_of=1, reason="payment errors"),
    ):
        state = evolve(state, event)
    assert isinstance(state, Environment)
    return state


def test_the_release_after_a_rollback_says_so(events) -> None:
    before = _after_rollback(events)
    assert summarize(events.release("prod", 4), CONTEXT, before) == (
        "ci-bot deployed shop v4 (a1b2c3d) to prod (after rollback v3)"
    )


def test_a_config_change_after_a_rollback_says_so(events) -> None:
    before = _after_rollback(events)
    event = events.config("prod", 4, 2, set={"TIMEOUT": "10"})
    assert summarize(event, CONTEXT, before) == (
        "1 config key changed in shop prod (v4): +TIMEOUT (after rollback v3)"
    )


def test_a_release_after_an_ordinary_one_says_nothing_of_rollbacks(events) -> None:
    before = evolve(None, events.release("prod", 1))
    assert isinstance(before, Environment)
    assert "rollback" not in summarize(events.release("prod", 2), CONTEXT, before)


def _project(events_: list[LedgerEvent], rules: Rules) -> list[str]:
    changes = ViewChanges({}, FINGERPRINTS, rules)
    for position, event in enumerate(events_, start=1):
        changes.apply(event, position)
    return [item.summary for item in changes.history]


def test_a_deploy_that_skipped_the_promotion_path_says_where_it_did_not_run(events) -> None:
    rules = Rules(promotion_path={"prod": "staging"})
    summaries = _project([events.release("prod", 1)], rules)
    assert summaries == ["ci-bot deployed shop v1 (a1b2c3d) to prod — not seen in staging first"]


def test_a_deploy_that_ran_in_the_previous_stage_says_nothing_more(events) -> None:
    rules = Rules(promotion_path={"prod": "staging"})
    summaries = _project([events.release("staging", 1), events.release("prod", 1)], rules)
    assert summaries[-1] == "ci-bot deployed shop v1 (a1b2c3d) to prod"


def test_a_canary_that_skipped_staging_notes_both(events) -> None:
    rules = Rules(promotion_path={"prod": "staging"})
    summaries = _project([events.release("prod", 1, steps=(10, 100))], rules)
    assert summaries == [
        "ci-bot deployed shop v1 (a1b2c3d) to prod — canary 10%, not seen in staging first"
    ]


def test_a_protected_env_without_a_path_wants_the_build_seen_anywhere_else(events) -> None:
    rules = Rules(protected=frozenset({"prod"}))
    first = _project([events.release("prod", 1)], rules)
    assert first == [
        "ci-bot deployed shop v1 (a1b2c3d) to prod — not seen in another environment first"
    ]
    seen = _project([events.release("qa", 1), events.release("prod", 1)], rules)
    assert seen[-1] == "ci-bot deployed shop v1 (a1b2c3d) to prod"


def test_unprotected_envs_promotions_and_rollbacks_carry_no_provenance_note(events) -> None:
    rules = Rules(protected=frozenset({"prod"}), promotion_path={"staging": "qa"})
    summaries = _project(
        [
            events.release("dev", 1),
            events.release("prod", 1, cause="promote", promoted_from="dev"),
            events.release("prod", 2, cause="rollback", rollback_of=1, reason="r"),
        ],
        rules,
    )
    assert not any("not seen" in s for s in summaries)
