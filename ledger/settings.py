"""Configuration: 12-factor, every setting a LEDGER_* environment variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from msgspec import Struct

from ledger.domain.notes import COSIGNATURE_V1, default_origin, name_problem, parse_verifier_key
from ledger.domain.policy import Rules
from ledger.domain.windows import parse_duration

EVENTS_FILE = "ledger.sqlite"
"""The embedded ledger's SQLite file name, in LEDGER_DATA_DIR."""


class Settings(Struct, frozen=True, kw_only=True):
    role: Literal["all", "api", "worker"] = "all"
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".ledger")
    database_url: str | None = None
    read_database_url: str | None = None  # a read replica of database_url, for queries
    nats_url: str | None = None
    cipher_key: str | None = None
    max_body_bytes: int = 1024 * 1024
    max_batch_bytes: int = 16 * 1024 * 1024
    batch_max: int = 256
    snapshot_interval: int = 200
    moment_interval: int = 50
    read_wait_seconds: float = 5.0
    body_timeout_seconds: float = 30.0
    log_level: str = "INFO"
    protected_envs: tuple[str, ...] = ("prod", "production")
    promotion_path: tuple[str, ...] = ()
    human_writes_per_minute: int = 120
    ci_writes_per_minute: int = 0
    system_writes_per_minute: int = 0
    write_burst: int = 20
    public_url: str | None = None  # how people reach this ledger: links in chat messages
    log_origin: str | None = None  # the origin line of checkpoints (default from public_url)
    witnesses: tuple[tuple[str, str], ...] = ()  # (submission URL, verifier key) of each witness
    feed_keepalive_seconds: float = 15.0
    webhook_pause_after_seconds: float = 3600.0
    shutdown_timeout_seconds: float = 10.0
    ready_timeout_seconds: float = 2.0  # /readyz: how long the store may take to answer
    ready_max_lag: int = 10_000  # /readyz: 503 when a follower this process owns lags more
    drift_grace_seconds: float = 300.0  # old instances may run this long after a release
    runtime_stale_seconds: float = 600.0  # a reporter silent this long: runtime unknown
    unrecorded_is_denied: bool = False  # an unrecorded artifact in a protected env: denied
    request_ttl_seconds: float = 86400.0  # a change request expires this long after it is made
    request_sweep_seconds: float = 30.0  # how often a worker records overdue requests as expired

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from LEDGER_* variables (unset ones keep their defaults)."""
        env = os.environ if environ is None else environ
        given = {
            "role": env.get("LEDGER_ROLE") or None,
            "host": env.get("LEDGER_HOST"),
            "port": _int(env.get("LEDGER_PORT")),
            "data_dir": Path(env["LEDGER_DATA_DIR"]) if env.get("LEDGER_DATA_DIR") else None,
            "database_url": env.get("LEDGER_DATABASE_URL") or None,
            "read_database_url": env.get("LEDGER_READ_DATABASE_URL") or None,
            "nats_url": env.get("LEDGER_NATS_URL") or None,
            "cipher_key": env.get("LEDGER_CIPHER_KEY") or None,
            "max_body_bytes": _int(env.get("LEDGER_MAX_BODY_BYTES")),
            "max_batch_bytes": _int(env.get("LEDGER_MAX_BATCH_BYTES")),
            "batch_max": _int(env.get("LEDGER_BATCH_MAX")),
            "snapshot_interval": _int(env.get("LEDGER_SNAPSHOT_INTERVAL")),
            "moment_interval": _int(env.get("LEDGER_MOMENT_INTERVAL")),
            "read_wait_seconds": _float(env.get("LEDGER_READ_WAIT_SECONDS")),
            "body_timeout_seconds": _float(env.get("LEDGER_BODY_TIMEOUT_SECONDS")),
            "log_level": env.get("LEDGER_LOG_LEVEL"),
            "protected_envs": _names(env.get("LEDGER_PROTECTED_ENVS")),
            "promotion_path": _names(env.get("LEDGER_PROMOTION_PATH")),
            "human_writes_per_minute": _int(env.get("LEDGER_HUMAN_WRITES_PER_MINUTE")),
            "ci_writes_per_minute": _int(env.get("LEDGER_CI_WRITES_PER_MINUTE")),
            "system_writes_per_minute": _int(env.get("LEDGER_SYSTEM_WRITES_PER_MINUTE")),
            "write_burst": _int(env.get("LEDGER_WRITE_BURST")),
            "public_url": env.get("LEDGER_PUBLIC_URL") or None,
            "log_origin": _origin(env.get("LEDGER_LOG_ORIGIN")),
            "witnesses": _witnesses(env.get("LEDGER_WITNESSES")),
            "feed_keepalive_seconds": _float(env.get("LEDGER_FEED_KEEPALIVE_SECONDS")),
            "webhook_pause_after_seconds": _float(env.get("LEDGER_WEBHOOK_PAUSE_AFTER_SECONDS")),
            "shutdown_timeout_seconds": _float(env.get("LEDGER_SHUTDOWN_TIMEOUT_SECONDS")),
            "ready_timeout_seconds": _float(env.get("LEDGER_READY_TIMEOUT_SECONDS")),
            "ready_max_lag": _int(env.get("LEDGER_READY_MAX_LAG")),
            "drift_grace_seconds": _float(env.get("LEDGER_DRIFT_GRACE_SECONDS")),
            "runtime_stale_seconds": _float(env.get("LEDGER_RUNTIME_STALE_SECONDS")),
            "unrecorded_is_denied": _flag(env.get("LEDGER_UNRECORDED_IS_DENIED")),
            "request_ttl_seconds": _seconds(env.get("LEDGER_REQUEST_TTL"), "LEDGER_REQUEST_TTL"),
            "request_sweep_seconds": _seconds(
                env.get("LEDGER_REQUEST_SWEEP_SECONDS"), "LEDGER_REQUEST_SWEEP_SECONDS"
            ),
        }
        if given["role"] not in (None, "all", "api", "worker"):
            raise ValueError(f"LEDGER_ROLE must be all, api or worker, not {given['role']!r}")
        for interval in ("snapshot_interval", "moment_interval"):
            if (given[interval] or 0) < 0:  # type: ignore[operator]
                raise ValueError(f"LEDGER_{interval.upper()} must be 0 (never) or more")
        return cls(**{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]

    def rules(self) -> Rules:
        """The policy: protected environments, and each env's required predecessor."""
        path = self.promotion_path
        return Rules(
            protected=frozenset(self.protected_envs),
            promotion_path=dict(zip(path[1:], path, strict=False)),
            drift_grace_seconds=self.drift_grace_seconds,
            unrecorded_is_denied=self.unrecorded_is_denied,
            request_ttl_seconds=self.request_ttl_seconds,
        )

    def writes_per_minute(self, kind: str) -> int:
        """The write rate limit of a principal kind (0: unlimited)."""
        return {
            "human": self.human_writes_per_minute,
            "ci": self.ci_writes_per_minute,
            "system": self.system_writes_per_minute,
        }.get(kind, 0)

    @property
    def base_url(self) -> str:
        """The ledger's URL for links: LEDGER_PUBLIC_URL, else where it listens."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def checkpoint_origin(self) -> str:
        """The origin of the log's checkpoints (and their key name): LEDGER_LOG_ORIGIN, else
        LEDGER_PUBLIC_URL without the scheme (``ledger.example.com/prod``), else
        ``release-ledger``."""
        if self.log_origin is None:
            return default_origin(self.public_url)
        return _origin(self.log_origin) or self.log_origin

    @property
    def sqlite_file(self) -> Path:
        """The embedded ledger's SQLite file (events and views): LEDGER_DATA_DIR/ledger.sqlite."""
        return self.data_dir / EVENTS_FILE

    @property
    def embedded(self) -> bool:
        """True when the ledger keeps everything in SQLite files (no LEDGER_DATABASE_URL)."""
        return self.database_url is None


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(n.strip() for n in value.split(",") if n.strip())


def _seconds(value: str | None, name: str) -> float | None:
    """A duration: seconds (``3600``), or with units (``24h``, ``1d12h``, ``90m``)."""
    if not value:
        return None
    try:
        seconds = float(value) if value.replace(".", "", 1).isdigit() else None
        seconds = seconds if seconds is not None else parse_duration(value).total_seconds()
    except ValueError:
        raise ValueError(f"{name} must be seconds or a duration like 24h, not {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be more than 0, not {value!r}")
    return seconds


def _origin(value: str | None) -> str | None:
    """A checkpoint origin as C2SP asks (a schema-less URL such as ledger.example.com/prod)."""
    if not value:
        return None
    if (problem := name_problem(value)) is not None:
        raise ValueError(
            f"LEDGER_LOG_ORIGIN {value!r} cannot be a checkpoint origin: {problem} (name the "
            "log like ledger.example.com/prod: no spaces, no '+')"
        )
    return value


def _witnesses(value: str | None) -> tuple[tuple[str, str], ...] | None:
    """LEDGER_WITNESSES: entries separated by commas or newlines, each a witness's submission
    URL and its verifier key (``name+hash+base64(0x04 || key)``) separated by spaces."""
    if not value or not value.strip():
        return None
    witnesses = []
    for entry in value.replace("\n", ",").split(","):
        if not entry.strip():
            continue
        url, _, key = entry.strip().partition(" ")
        key = key.strip()
        if not url.startswith(("http://", "https://")) or not key or " " in key:
            raise ValueError(
                f"LEDGER_WITNESSES entry {entry.strip()!r} is not '<http(s) URL> <verifier key>'"
            )
        try:
            parse_verifier_key(key, COSIGNATURE_V1)
        except ValueError as error:
            raise ValueError(f"LEDGER_WITNESSES: {key!r} is not a witness's key: {error}") from None
        witnesses.append((url.rstrip("/"), key))
    return tuple(witnesses)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def _float(value: str | None) -> float | None:
    return float(value) if value else None


def _flag(value: str | None) -> bool | None:
    """``true``/``1``/``yes`` or ``false``/``0``/``no``; unset keeps the default."""
    if not value:
        return None
    if value.lower() not in ("true", "1", "yes", "false", "0", "no"):
        raise ValueError(f"{value!r} is not true or false")
    return value.lower() in ("true", "1", "yes")
