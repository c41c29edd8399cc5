from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Config, ConfigError


def test_defaults_without_environment() -> None:
    config = Config.from_env({})
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.database_url is None
    assert config.redis_url is None
    assert config.data_dir == Path(".data")
    assert (config.access_token_ttl, config.refresh_token_ttl) == (1800, 604800)
    assert config.rate_limits is True
    assert config.base_url == "http://127.0.0.1:8000"


def test_reads_every_variable() -> None:
    config = Config.from_env(
        {
            "HOST": "0.0.0.0",
            "PORT": "9001",
            "DATABASE_URL": "postgresql://app:pw@db:5432/stampede",
            "REDIS_URL": "redis://cache:6379/0",
            "STAMPEDE_DATA_DIR": "/var/lib/stampede",
            "JWT_SECRET": "s" * 40,
            "SMTP_URL": "smtps://user:pw@mail:465",
            "PUBLIC_BASE_URL": "https://tickets.example.org/",
            "ACCESS_TOKEN_TTL": "60",
            "REFRESH_TOKEN_TTL": "120",
            "RATE_LIMITS": "off",
            "LOG_LEVEL": "debug",
        }
    )
    assert config.port == 9001
    assert config.database_url == "postgresql://app:pw@db:5432/stampede"
    assert config.redis_url == "redis://cache:6379/0"
    assert config.data_dir == Path("/var/lib/stampede")
    assert config.smtp_url == "smtps://user:pw@mail:465"
    assert config.base_url == "https://tickets.example.org"
    assert (config.access_token_ttl, config.refresh_token_ttl) == (60, 120)
    assert config.rate_limits is False
    assert config.log_level == "DEBUG"


def test_blank_values_count_as_unset() -> None:
    assert Config.from_env({"DATABASE_URL": "  ", "PORT": ""}).database_url is None


def test_unix_socket_database_url_is_accepted() -> None:
    url = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert Config.from_env({"DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "PORT must be an integer, got 'eighty'"),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535, got '70000'"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must be a URL starting with postgres://"),
        ({"DATABASE_URL": "postgresql://db:port/x"}, "DATABASE_URL is not a valid URL"),
        ({"DATABASE_URL": "postgresql:///x"}, "DATABASE_URL must name a host"),
        ({"REDIS_URL": "http://cache"}, "REDIS_URL must be a URL starting with redis://"),
        ({"SMTP_URL": "mail.example.org"}, "SMTP_URL must be a URL starting with smtp://"),
        ({"RATE_LIMITS": "sometimes"}, "RATE_LIMITS must be on or off"),
        ({"ACCESS_TOKEN_TTL": "0"}, "ACCESS_TOKEN_TTL must be at least 1"),
        ({"STAMPEDE_ENV": "staging"}, "STAMPEDE_ENV must be one of development, production"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of DEBUG"),
        ({"DB_POOL_MIN": "9", "DB_POOL_MAX": "3"}, "DB_POOL_MIN (9) must not exceed DB_POOL_MAX"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(env)
    assert message in str(caught.value)


PRODUCTION = {"STAMPEDE_ENV": "production", "DATABASE_URL": "postgresql://db/stampede"}


def test_production_refuses_a_missing_secret() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET must be set"):
        Config.from_env(PRODUCTION)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        Config.from_env({**PRODUCTION, "JWT_SECRET": "short"})


def test_production_refuses_the_embedded_database() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be set"):
        Config.from_env({"STAMPEDE_ENV": "production", "JWT_SECRET": "k" * 32})


def test_production_with_its_settings_starts() -> None:
    config = Config.from_env({**PRODUCTION, "JWT_SECRET": "k" * 32})
    assert config.is_production
