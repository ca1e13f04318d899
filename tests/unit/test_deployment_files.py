"""compose.yaml, deploy/nginx.conf and the Dockerfile agree with the code they deploy.

Read as files (no Docker daemon): every NETRA_* variable is a setting with a valid value,
the commands are the CLI's, WebSockets are upgraded through the proxy, and PostgreSQL
accepts every pooled connection of every process.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from netra.cli import main
from netra.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
RESERVED_CONNECTIONS = 3  # PostgreSQL's superuser_reserved_connections default
SECRET = "a-signing-key-of-at-least-32-characters"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return compose["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def nginx() -> str:
    return re.sub(r"#[^\n]*", "", (ROOT / "deploy" / "nginx.conf").read_text())


def netra_env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    return {name: str(value) for name, value in environment.items() if name.startswith("NETRA_")}


def test_every_netra_variable_is_a_setting_with_a_valid_value(services: dict[str, Any]) -> None:
    dockerfile_env = dict(re.findall(r"(NETRA_\w+)=(\S+)", (ROOT / "Dockerfile").read_text()))
    assert dockerfile_env, "the Dockerfile sets the image's defaults"
    for name, service in [("Dockerfile", {"environment": dockerfile_env}), *services.items()]:
        values = {
            variable.removeprefix("NETRA_").lower(): value
            for variable, value in netra_env(service).items()
        }
        unknown = set(values) - set(Settings.model_fields)
        assert not unknown, f"{name}: not settings: {sorted(unknown)}"
        if "jwt_secret" in values:  # compose interpolates it from the operator's environment
            assert values["jwt_secret"].startswith("${NETRA_JWT_SECRET:?"), values["jwt_secret"]
        load_settings(**{**values, "jwt_secret": SECRET})  # raises SettingsError on a bad value


def test_servers_serve_and_workers_execute_on_one_database_redis_and_data(
    services: dict[str, Any],
) -> None:
    commands = {name: services[name]["command"] for name in ("migrate", "serve", "worker")}
    assert commands == {
        "migrate": ["netra", "migrate"],
        "serve": ["netra", "serve"],
        "worker": ["netra", "worker"],
    }
    for command in commands.values():
        with pytest.raises(SystemExit) as exited:
            main([*command[1:], "--help"])  # a command the CLI knows
        assert exited.value.code == 0
    serve, worker = netra_env(services["serve"]), netra_env(services["worker"])
    assert serve["NETRA_SERVE_EXECUTES"] == "false", "the workers execute runs"
    assert services["worker"]["deploy"]["replicas"] >= 1
    for shared in ("NETRA_DATABASE_URL", "NETRA_REDIS_URL", "NETRA_JWT_SECRET"):
        assert serve[shared] == worker[shared] == netra_env(services["migrate"])[shared]
    assert serve["NETRA_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert services["serve"]["volumes"] == services["worker"]["volumes"]  # the datasets
    redis = services["redis"]["command"]
    assert redis[redis.index("--appendonly") + 1] == "yes"
    assert redis[redis.index("--maxmemory-policy") + 1] == "noeviction"


def test_postgresql_accepts_every_pooled_connection(services: dict[str, Any]) -> None:
    command = services["postgres"]["command"]
    settings = dict(part.split("=", 1) for part in command if "=" in part)
    processes = sum(services[name]["deploy"]["replicas"] for name in ("serve", "worker"))
    processes += 1  # `netra migrate`, which may overlap the first starts
    pool = int(netra_env(services["serve"]).get("NETRA_DB_MAX_CONNECTIONS", 0)) or (
        Settings.model_fields["db_max_connections"].default
    )
    needed = processes * pool + RESERVED_CONNECTIONS
    assert int(settings["max_connections"]) >= needed


def test_nginx_upgrades_websockets_and_reaches_every_server(
    services: dict[str, Any], nginx: str
) -> None:
    port = netra_env(services["serve"])["NETRA_PORT"]
    assert re.search(rf"upstream netra \{{\s*server serve:{port};", nginx)
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default upgrade;", nginx)
    location = re.search(r"location / \{(.*?)\}", nginx, re.S)
    assert location is not None
    directives = {line.strip().rstrip(";") for line in location.group(1).splitlines()}
    assert {
        "proxy_pass http://netra",
        "proxy_http_version 1.1",
        "proxy_set_header Upgrade $http_upgrade",
        "proxy_set_header Connection $connection_upgrade",
    } <= directives
    read_timeout = next(d for d in directives if d.startswith("proxy_read_timeout"))
    assert (
        int(read_timeout.split()[1].rstrip("s"))
        > Settings.model_fields["heartbeat_interval_s"].default
    )
    body = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert (
        body is not None
        and int(body.group(1)) * 2**20 > Settings.model_fields["upload_max_bytes"].default
    )
    nginx_service = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx_service["volumes"]
