"""compose.yaml's layout, run as processes: its services' commands and environment, behind a
real nginx with deploy/nginx.conf.

There is no Docker daemon here, so what Docker adds (the image, service names in DNS, the
restart policy) is not exercised; everything else is: ``netra migrate`` on an empty
PostgreSQL database, then every ``serve`` and ``worker`` replica started with the command and
the ``NETRA_*`` variables compose gives it (the database, Redis, the data folder and the
ports pointed at this machine's), their healthchecks, and a user's golden path through the
proxy: HTTP, the WebSocket upgrade, a run executed by a worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.checks import check_run_events
from tests.e2e.clients import connected, follow, start_run
from tests.support import (
    NetraProcess,
    RedisProcess,
    free_port,
    fresh_pg_database,
    register,
    service_available,
    skip_or_fail,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-signing-key-of-the-compose-test-0123456789"
COMPOSE_DATABASE = "postgresql+asyncpg://netra:netra@postgres:5432/netra"
COMPOSE_REDIS = "redis://redis:6379/0"


class Service(NetraProcess):
    """One replica of a compose service: its ``netra`` command, ready by its healthcheck."""

    def __init__(self, data_dir: Path, name: str, command: list[str], health: str, **env: str):
        super().__init__(data_dir, env["NETRA_DATABASE_URL"], name, **env)
        self._command, self.health = command, health

    def command(self) -> list[str]:
        return self._command

    def ready(self) -> bool:
        try:
            return httpx.get(self.health, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


def _environment(service: dict[str, Any], database: str, redis: str, data: Path) -> dict[str, str]:
    """The service's NETRA_* variables, with compose's hosts and folder replaced by ours."""
    env = {k: str(v) for k, v in service["environment"].items() if k.startswith("NETRA_")}
    assert env["NETRA_DATABASE_URL"] == COMPOSE_DATABASE
    assert env["NETRA_REDIS_URL"] == COMPOSE_REDIS
    assert service["volumes"] == [f"datasets:{env['NETRA_DATA_DIR']}"]
    assert env["NETRA_JWT_SECRET"].startswith("${NETRA_JWT_SECRET:?")
    return {
        **env,
        "NETRA_DATABASE_URL": database,
        "NETRA_REDIS_URL": redis,
        "NETRA_DATA_DIR": str(data),
        "NETRA_JWT_SECRET": SECRET,
    }


def _health_path(service: dict[str, Any], port_variable: str, env: dict[str, str]) -> str:
    """The path compose's healthcheck asks on the service's own port."""
    check = " ".join(service["healthcheck"]["test"])
    found = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]+)", check)
    assert found is not None, check
    assert found.group(1) == env[port_variable], "the healthcheck asks the service's port"
    return found.group(2)


def _replicas(
    services: dict[str, Any], name: str, port_variable: str, common: dict[str, Any]
) -> list[Service]:
    service = services[name]
    env = _environment(service, **common)
    path = _health_path(service, port_variable, env)
    replicas = []
    for index in range(service["deploy"]["replicas"]):
        port = free_port()  # each container has the port to itself; here they share a host
        replicas.append(
            Service(
                common["data"],
                f"{name}-{index}",
                service["command"][1:],
                f"http://127.0.0.1:{port}{path}",
                **{**env, port_variable: str(port)},
            )
        )
    return replicas


def _nginx_config(directory: Path, servers: list[Service], port: int) -> Path:
    """deploy/nginx.conf inside a main configuration, its upstream the replicas started here."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = "".join(f"server 127.0.0.1:{s.extra_env['NETRA_PORT']};\n    " for s in servers)
    site, replaced = re.subn(r"server serve:\d+;\s*", upstream, site)
    assert replaced == 1, "one upstream server line: the serve replicas"
    site, replaced = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    assert replaced == 1
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = directory / "nginx.conf"
    config.write_text(
        f"daemon off;\nmaster_process off;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp}\n{site}\n}}\n"
    )
    return config


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if binary is None:
        skip_or_fail("nginx is not installed (apt-get install nginx-light)")
    return str(binary)


@pytest.fixture(scope="module")
def layout(
    db_kind: str, nginx_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """compose.yaml's layout started; the proxy's URL."""
    if db_kind != "postgresql":
        pytest.skip("compose.yaml runs on PostgreSQL and Redis: under --db postgresql")
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    root = tmp_path_factory.mktemp("compose")
    redis = RedisProcess(root, appendonly=True)
    redis.start()
    processes: list[Service] = []
    nginx: subprocess.Popen[bytes] | None = None
    with fresh_pg_database() as database:
        common = {"database": database, "redis": redis.url, "data": root / "data"}
        try:
            migrate = services["migrate"]
            migrated = subprocess.run(
                [sys.executable, "-m", "netra.cli", *migrate["command"][1:]],
                env={**_base_env(), **_environment(migrate, **common)},
                capture_output=True,
                timeout=120,
            )
            assert migrated.returncode == 0, migrated.stderr.decode()
            servers = _replicas(services, "serve", "NETRA_PORT", common)
            workers = _replicas(services, "worker", "NETRA_WORKER_METRICS_PORT", common)
            for process in [*servers, *workers]:
                processes.append(process)
                process.start(timeout=60)  # ready: its compose healthcheck answers 200
            port = free_port()
            config = _nginx_config(root, servers, port)
            checked = subprocess.run([nginx_binary, "-t", "-c", str(config)], capture_output=True)
            assert checked.returncode == 0, checked.stderr.decode()
            nginx = subprocess.Popen([nginx_binary, "-c", str(config)])
            deadline = time.monotonic() + 10
            while not service_available("127.0.0.1", port):
                assert nginx.poll() is None, (root / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            if nginx is not None:
                nginx.terminate()
                nginx.wait(10)
            for process in processes:
                if process.running:
                    process.stop()
            redis.kill()


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NETRA_")}


async def test_a_user_runs_a_question_through_the_proxy_of_the_compose_layout(layout: str):
    async with httpx.AsyncClient(base_url=layout, timeout=10) as http:
        assert (await http.get("/metrics")).status_code == 404  # scraped per replica only
        ready = await http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        users = [await register(http, f"compose{index}") for index in range(2)]
        ws_url = layout.replace("http://", "ws://") + "/ws"
        sockets = [await connected(ws_url, user) for user in users]
        try:
            started = [await start_run(ws, "hello, what can you do?") for ws in sockets]
            runs = await asyncio.gather(
                *(follow(ws, run["run_id"]) for ws, run in zip(sockets, started, strict=True))
            )
            for first, rest in zip(started, runs, strict=True):
                events = [first, *rest]
                check_run_events(events)
                assert events[-1]["type"] == "run_completed", events[-1]
            thread = started[0]["thread_id"]
            messages = await http.get(f"/api/threads/{thread}/messages", headers=users[0].headers)
            assert messages.status_code == 200, messages.text
            assert [m["role"] for m in messages.json()["messages"]] == ["user", "assistant"]
        finally:
            for ws in sockets:
                await ws.close()
