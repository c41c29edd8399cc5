"""Configuration: one frozen dataclass built from the environment (or any mapping, in tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Config", "ConfigError"]

MIN_SECRET_LENGTH = 32
ENVIRONMENTS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    environment: str = "development"
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path(".data")
    jwt_secret: str | None = None
    smtp_url: str | None = None
    public_base_url: str | None = None
    mail_from: str = "no-reply@stampede.local"
    mail_retry_max_seconds: int = 300
    # How long a mail claimed by an instance's sender is its own to deliver (a sender that
    # dies mid-send leaves it to another instance after this).
    outbox_lease_seconds: int = 300
    # Sent mail is kept this long, then purged (as are idempotency keys older than 24 h).
    outbox_retention_days: int = 7
    purge_interval_seconds: float = 600
    purge_batch: int = 1000
    access_token_ttl: int = 1800
    refresh_token_ttl: int = 604800
    rate_limits: bool = True
    # Behind a proxy that sets X-Forwarded-For (nginx in docker-compose.yml): use its last
    # address as the client's. Off by default: a client could otherwise pick its own address.
    trust_forwarded_for: bool = False
    db_pool_min: int = 2
    db_pool_max: int = 20
    max_body_bytes: int = 1024 * 1024
    # Seconds a connection may take to send a whole request (headers, then body), and stay
    # idle between requests: a slowloris client trickling bytes is closed after this.
    idle_timeout: int = 75
    booking_batch_max: int = 256
    booking_mailbox: int = 2048
    booking_timeout: int = 10
    actor_idle_seconds: int = 60
    max_actors: int = 10_000
    live_interval_ms: int = 50
    # How often each instance looks for what is due (expired holds, sales windows) on events
    # whose actor is not running: the longest a hold outlives its expires_at.
    sweep_interval_ms: int = 250
    # How often each instance draws and admits the waiting rooms that are due (each admission
    # admits what is owed since the last, whoever ran it).
    admit_interval_ms: int = 250
    log_level: str = "INFO"
    log_format: str = "text"  # or json: one object per line
    # Where the outbox's mail is sent from when SMTP_URL is set: "process", a process of its own
    # next to the server's (so that building and sending mail never takes the booking path's
    # event loop), or "inline", a task of the server's event loop.
    mail_sender: str = "process"
    # /metrics (Prometheus): on by default; METRICS_TOKEN, when set, must come as a Bearer token.
    metrics: bool = True
    metrics_token: str | None = None
    # Webhooks may go to loopback and private addresses only when this is on (a test receiver
    # on this machine, an internal network); off, they never can (no SSRF).
    webhooks_allow_private: bool = False
    webhook_timeout_seconds: int = 10
    webhook_retry_hours: int = 72  # a delivery is retried this long, then abandoned

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def mail_in_own_process(self) -> bool:
        """Whether ``python -m server`` sends the outbox's mail from a process of its own."""
        return self.smtp_url is not None and self.mail_sender == "process"

    @property
    def base_url(self) -> str:
        """Where links in emails point: PUBLIC_BASE_URL, else this server's own address."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        """Build the config from environment variables; raise ConfigError naming a bad one."""
        env = {key: value.strip() for key, value in environ.items() if value.strip()}
        values: dict[str, Any] = {}
        for field, variable, convert in _VARIABLES:
            raw = env.get(variable)
            if raw is None:
                continue
            try:
                values[field] = convert(raw)
            except ValueError as exc:
                raise ConfigError(f"{variable} {exc}, got {raw!r}") from None
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Cross-field checks, and the rules a production start must meet."""
        if self.db_pool_min > self.db_pool_max:
            raise ConfigError(
                f"DB_POOL_MIN ({self.db_pool_min}) must not exceed DB_POOL_MAX ({self.db_pool_max})"
            )
        if self.is_production:
            if not self.jwt_secret:
                raise ConfigError("JWT_SECRET must be set when STAMPEDE_ENV=production")
            if len(self.jwt_secret) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters in production"
                )
            if not self.database_url:
                raise ConfigError("DATABASE_URL must be set when STAMPEDE_ENV=production")


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be an integer") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {bounds}")
        return value

    return convert


def _choice(options: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return convert


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError on a non-numeric port
        except ValueError:
            raise ValueError("is not a valid URL") from None
        if parts.scheme not in schemes:
            raise ValueError(
                f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        if parts.scheme != "unix" and not parts.hostname and "host=" not in parts.query:
            raise ValueError("must name a host")
        return raw

    return convert


def _on_off(raw: str) -> bool:
    value = raw.lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError("must be on or off")


_VARIABLES: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("host", "HOST", str),
    ("port", "PORT", _int_in(1, 65535)),
    ("environment", "STAMPEDE_ENV", _choice(ENVIRONMENTS)),
    ("database_url", "DATABASE_URL", _url(("postgres", "postgresql"))),
    ("redis_url", "REDIS_URL", _url(("redis", "rediss", "unix"))),
    ("data_dir", "STAMPEDE_DATA_DIR", Path),
    ("jwt_secret", "JWT_SECRET", str),
    ("smtp_url", "SMTP_URL", _url(("smtp", "smtps"))),
    ("public_base_url", "PUBLIC_BASE_URL", _url(("http", "https"))),
    ("mail_from", "MAIL_FROM", str),
    ("mail_retry_max_seconds", "MAIL_RETRY_MAX_SECONDS", _int_in(1, 86_400)),
    ("outbox_lease_seconds", "OUTBOX_LEASE_SECONDS", _int_in(1, 86_400)),
    ("outbox_retention_days", "OUTBOX_RETENTION_DAYS", _int_in(1, 36_500)),
    ("purge_interval_seconds", "PURGE_INTERVAL_SECONDS", _int_in(1, 86_400)),
    ("purge_batch", "PURGE_BATCH", _int_in(1, 100_000)),
    ("access_token_ttl", "ACCESS_TOKEN_TTL", _int_in(1)),
    ("refresh_token_ttl", "REFRESH_TOKEN_TTL", _int_in(1)),
    ("rate_limits", "RATE_LIMITS", _on_off),
    ("trust_forwarded_for", "TRUST_FORWARDED_FOR", _on_off),
    ("db_pool_min", "DB_POOL_MIN", _int_in(0, 1000)),
    ("db_pool_max", "DB_POOL_MAX", _int_in(1, 1000)),
    ("idle_timeout", "IDLE_TIMEOUT", _int_in(1, 3600)),
    ("log_level", "LOG_LEVEL", _choice(LOG_LEVELS, upper=True)),
    ("booking_batch_max", "BOOKING_BATCH_MAX", _int_in(1, 10_000)),
    ("booking_mailbox", "BOOKING_MAILBOX", _int_in(1, 1_000_000)),
    ("booking_timeout", "BOOKING_TIMEOUT", _int_in(1, 600)),
    ("actor_idle_seconds", "ACTOR_IDLE_SECONDS", _int_in(1, 86_400)),
    ("max_actors", "MAX_ACTORS", _int_in(1, 1_000_000)),
    ("live_interval_ms", "LIVE_INTERVAL_MS", _int_in(1, 60_000)),
    ("sweep_interval_ms", "SWEEP_INTERVAL_MS", _int_in(10, 60_000)),
    ("admit_interval_ms", "ADMIT_INTERVAL_MS", _int_in(10, 60_000)),
    ("log_format", "LOG_FORMAT", _choice(LOG_FORMATS)),
    ("mail_sender", "MAIL_SENDER", _choice(("process", "inline"))),
    ("metrics", "METRICS", _on_off),
    ("metrics_token", "METRICS_TOKEN", str),
    ("webhooks_allow_private", "WEBHOOKS_ALLOW_PRIVATE", _on_off),
    ("webhook_timeout_seconds", "WEBHOOK_TIMEOUT_SECONDS", _int_in(1, 300)),
    ("webhook_retry_hours", "WEBHOOK_RETRY_HOURS", _int_in(24, 24 * 30)),
)
