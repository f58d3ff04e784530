"""The views' tables and the statements that write them: one set for PostgreSQL and SQLite.

JSON is stored as TEXT and timestamps as fixed-width ISO-8601 UTC text, so both sort and
compare the same way in both databases.
"""

from __future__ import annotations

TRACKING = "ledger_view_tracking"
APPS = "ledger_view_apps"
STATE = "ledger_view_state"
RELEASES = "ledger_view_releases"
HISTORY = "ledger_view_history"
REQUESTS = "ledger_view_requests"
VIEW_TABLES = (APPS, STATE, RELEASES, HISTORY, REQUESTS)
"""The tables a rebuild clears (tracking is reset, not cleared)."""

FAILURES = "ledger_follower_failures"
CREATE_FAILURES = f"""CREATE TABLE IF NOT EXISTS {FAILURES} (
    follower TEXT NOT NULL,
    position BIGINT NOT NULL,
    event_id TEXT,
    error TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (follower, position)
)"""
"""The events a follower could not handle and passed over (see projections.failures)."""
RECORD_FAILURE = f"""
    INSERT INTO {FAILURES} (follower, position, event_id, error, failed_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (follower, position) DO UPDATE SET event_id = excluded.event_id,
        error = excluded.error, failed_at = excluded.failed_at"""
SELECT_FAILURES = (
    f"SELECT follower, position, event_id, error, failed_at FROM {FAILURES} "
    "ORDER BY follower, position"
)
DELETE_FAILURE = f"DELETE FROM {FAILURES} WHERE follower = $1 AND position = $2"
DELETE_FAILURES_OF = f"DELETE FROM {FAILURES} WHERE follower = $1"

TABLES = (
    f"""CREATE TABLE IF NOT EXISTS {TRACKING} (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {APPS} (
        name TEXT PRIMARY KEY,
        description TEXT,
        created_at TEXT NOT NULL,
        position BIGINT NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {STATE} (
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        position BIGINT NOT NULL,
        updated_at TEXT,
        release TEXT,
        config TEXT NOT NULL,
        flags TEXT NOT NULL,
        schema_version TEXT,
        config_version INTEGER NOT NULL,
        environment TEXT NOT NULL,
        PRIMARY KEY (app, env)
    )""",
    f"""CREATE TABLE IF NOT EXISTS {RELEASES} (
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        version INTEGER NOT NULL,
        build_id TEXT,
        commit_sha TEXT,
        artifact_digest TEXT,
        config_version INTEGER NOT NULL,
        status TEXT NOT NULL,
        rollout_percent INTEGER NOT NULL,
        strategy TEXT NOT NULL,
        cause TEXT NOT NULL,
        rollback_of INTEGER,
        promoted_from TEXT,
        description TEXT,
        actor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        gates TEXT,
        reason TEXT,
        PRIMARY KEY (app, env, version)
    )""",
    f"""CREATE TABLE IF NOT EXISTS {HISTORY} (
        position BIGINT PRIMARY KEY,
        event_id TEXT NOT NULL,
        app TEXT NOT NULL,
        env TEXT,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_kind TEXT NOT NULL,
        via TEXT NOT NULL,
        summary TEXT NOT NULL,
        reason TEXT,
        recorded_at TEXT NOT NULL,
        correlation_id TEXT,
        data TEXT NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {REQUESTS} (
        request_id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        required INTEGER NOT NULL,
        approvals INTEGER NOT NULL,
        requested_position BIGINT NOT NULL,
        position BIGINT NOT NULL,
        request TEXT NOT NULL
    )""",
    CREATE_FAILURES,
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_app ON {HISTORY} (app, env, position DESC)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_kind ON {HISTORY} (kind, position DESC)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_actor ON {HISTORY} (actor, position DESC)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_recorded_at ON {HISTORY} (recorded_at, position)",
    # the history's filters by channel and pipeline run, and point-in-time lookups by time
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_actor_kind ON {HISTORY} (actor_kind, position DESC)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_via ON {HISTORY} (via, position DESC)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_correlation_id "
    f"ON {HISTORY} (correlation_id, position DESC)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_app_time ON {HISTORY} (app, env, recorded_at, position)",
    # the history of one environment by kind (e.g. its config changes)
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_app_kind ON {HISTORY} (app, env, kind, position DESC)",
    # an event's position by its id: inclusion proofs (GET /v1/events/{id}/proof)
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_event_id ON {HISTORY} (event_id)",
    # change requests newest first (of an environment), and the pending ones by expiry (the sweep)
    f"CREATE INDEX IF NOT EXISTS {REQUESTS}_newest ON {REQUESTS} (requested_position DESC)",
    f"CREATE INDEX IF NOT EXISTS {REQUESTS}_app ON {REQUESTS} (app, env, requested_position DESC)",
    f"CREATE INDEX IF NOT EXISTS {REQUESTS}_expiry ON {REQUESTS} (status, expires_at)",
)

# After a bulk load the planner needs fresh statistics: without them it takes a 100,000-row
# environment for a 25-row one and sorts instead of walking an index (PostgreSQL's autovacuum
# may be off or late; SQLite has none).
ANALYZE = tuple(f"ANALYZE {table}" for table in VIEW_TABLES)

ADDED_COLUMNS = ((RELEASES, "gates", "TEXT"), (RELEASES, "reason", "TEXT"))
"""Columns added to a view table after it was first made: views made before get them."""

SCHEMA: dict[str, tuple[str, ...]] = {
    # Replicas may start together: one at a time creates the tables (CREATE TABLE IF NOT
    # EXISTS alone can still fail on a race in PostgreSQL).
    "postgres": ("SELECT pg_advisory_xact_lock(7204611553)", *TABLES),  # SCHEMA_LOCK_KEY
    "sqlite": TABLES,
}

INDEXES = tuple(s for s in TABLES if s.startswith("CREATE INDEX"))
"""The secondary indexes: a rebuild drops them, fills the tables, then creates them again (one
sort each, far cheaper than keeping them up to date row by row)."""
DROP_INDEXES = tuple(f"DROP INDEX IF EXISTS {s.split()[5]}" for s in INDEXES)
# PostgreSQL: ``q=`` (a substring of summaries and reasons) through trigram indexes. pg_trgm is
# a trusted extension (the database's owner may create it); without it, q= scans the history.
SEARCH_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_summary_trgm ON {HISTORY} "
    "USING gin (lower(summary) gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS {HISTORY}_reason_trgm ON {HISTORY} "
    "USING gin (lower(coalesce(reason, '')) gin_trgm_ops)",
)
CREATE_SEARCH = (
    "SELECT pg_advisory_xact_lock(7204611553)",  # SCHEMA_LOCK_KEY
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *SEARCH_INDEXES,
)
DROP_SEARCH = tuple(f"DROP INDEX IF EXISTS {s.split()[5]}" for s in SEARCH_INDEXES)
CLEAR_VIEWS: dict[str, tuple[str, ...]] = {
    "postgres": (f"TRUNCATE {', '.join(VIEW_TABLES)}",),
    "sqlite": tuple(f"DELETE FROM {table}" for table in VIEW_TABLES),
}

START_TRACKING = (
    f"INSERT INTO {TRACKING} (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING"
)
SELECT_POSITION = f"SELECT position FROM {TRACKING} WHERE name = $1"
ADVANCE_POSITION = f"UPDATE {TRACKING} SET position = $2 WHERE name = $1 AND position = $3"
RESET_POSITION = f"UPDATE {TRACKING} SET position = 0 WHERE name = $1"

SELECT_ENVIRONMENT = f"SELECT environment FROM {STATE} WHERE app = $1 AND env = $2"
SELECT_ENVIRONMENTS_OF_APP = f"SELECT env, environment FROM {STATE} WHERE app = $1"

UPSERT_APP = f"""
    INSERT INTO {APPS} (name, description, created_at, position) VALUES ($1, $2, $3, $4)
    ON CONFLICT (name) DO UPDATE SET description = excluded.description,
        created_at = excluded.created_at, position = excluded.position"""

UPSERT_STATE = f"""
    INSERT INTO {STATE} (app, env, position, updated_at, release, config, flags,
        schema_version, config_version, environment)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (app, env) DO UPDATE SET position = excluded.position,
        updated_at = excluded.updated_at, release = excluded.release,
        config = excluded.config, flags = excluded.flags,
        schema_version = excluded.schema_version, config_version = excluded.config_version,
        environment = excluded.environment"""

UPSERT_RELEASE = f"""
    INSERT INTO {RELEASES} (app, env, version, build_id, commit_sha, artifact_digest,
        config_version, status, rollout_percent, strategy, cause, rollback_of, promoted_from,
        description, actor, created_at, gates, reason)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
    ON CONFLICT (app, env, version) DO UPDATE SET status = excluded.status,
        rollout_percent = excluded.rollout_percent"""

SELECT_REQUEST = (
    f"SELECT requested_position, position, request FROM {REQUESTS} WHERE request_id = $1"
)
UPSERT_REQUEST = f"""
    INSERT INTO {REQUESTS} (request_id, app, env, action, status, requested_by, requested_at,
        expires_at, required, approvals, requested_position, position, request)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (request_id) DO UPDATE SET status = excluded.status,
        approvals = excluded.approvals, position = excluded.position,
        request = excluded.request"""

HISTORY_COLUMNS = (
    "position",
    "event_id",
    "app",
    "env",
    "kind",
    "actor",
    "actor_kind",
    "via",
    "summary",
    "reason",
    "recorded_at",
    "correlation_id",
    "data",
)
"""The history's columns in the order of rows.history_row (written with insert_many: COPY)."""

KEYS = "ledger_keys"
CREATE_KEYS = f"CREATE TABLE IF NOT EXISTS {KEYS} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
INSERT_KEY = f"INSERT INTO {KEYS} (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
SELECT_KEY = f"SELECT value FROM {KEYS} WHERE name = $1"
