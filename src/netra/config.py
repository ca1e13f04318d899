"""Settings: every ``NETRA_*`` variable (and ``.env``), validated into one typed object.

Nothing is built at import time: ``load_settings()`` reads the environment when called,
and ``prepare_data_dir()`` creates the data folder and the development signing key.
"""

from __future__ import annotations

import importlib.util
import re
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Environment", "Settings", "SettingsError", "load_settings", "prepare_data_dir"]


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class SettingsError(Exception):
    """A configuration value is wrong; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NETRA_", env_file=".env", extra="ignore", validate_default=True
    )

    env: Environment = Environment.development
    data_dir: Path = Path(".netra")
    database_url: str = ""  # empty: SQLite file in data_dir
    redis_url: str | None = None  # unset: in-process bus and queue
    db_max_connections: int = Field(30, ge=1)  # PostgreSQL connections per process, at most
    jwt_secret: SecretStr | None = None  # unset outside production: generated in data_dir

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: str = "info"
    log_json: bool | None = None  # unset: JSON in production, console elsewhere

    access_token_ttl_s: int = Field(900, ge=10)
    refresh_token_ttl_s: int = Field(7 * 24 * 3600, ge=60)

    max_runs_per_user: int = Field(3, ge=1)
    runs_per_minute_per_user: int = Field(0, ge=0)  # 0: off (PROTOCOL.md, rate_limited)
    heartbeat_interval_s: float = Field(25.0, gt=0)
    ws_max_message_bytes: int = Field(64 * 1024, ge=1024)
    ws_messages_per_second: float = Field(50.0, gt=0)
    upload_max_bytes: int = Field(200 * 1024 * 1024, ge=1024)
    demo_max_rows: int = Field(1_000_000, ge=1)
    max_concurrent_analyses: int = Field(8, ge=1)
    shutdown_grace_s: float = Field(3.0, ge=0)

    # Distributed runs (docs/deployment.md): with redis_url, `netra worker` executes runs.
    serve_executes: bool | None = None  # unset: `netra serve` executes runs only without Redis
    worker_concurrency: int = Field(10, ge=1)  # runs one `netra worker` executes at once
    run_lease_s: int = Field(10, ge=2)  # a silent executor's run is taken over after this
    max_run_attempts: int = Field(3, ge=1)  # executions of a run before it fails for good
    # `netra worker` serves /metrics and /health/* on NETRA_HOST at this port; unset: none.
    worker_metrics_port: int | None = Field(None, ge=0, le=65535)

    # HTTP hardening (docs/security.md)
    max_body_bytes: int = Field(64 * 1024, ge=1024)  # every body but uploads
    auth_window_s: float = Field(300.0, gt=0)  # the window of the two limits below
    login_failures_per_account: int = Field(10, ge=0)  # 0: off
    auth_attempts_per_address: int = Field(60, ge=0)  # logins and registrations; 0: off
    metrics_token: SecretStr | None = None  # production: /metrics only with this bearer
    docs_enabled: bool | None = None  # unset: /docs and /openapi.json off in production
    keep_alive_timeout_s: int = Field(5, ge=1)  # idle HTTP connections close after it

    # Per-user resource limits (docs/configuration.md): what one account may hold or hold up.
    dataset_max_rows: int = Field(5_000_000, ge=100)  # rows of one dataset, after decoding
    dataset_max_bytes: int = Field(256 * 1024 * 1024, ge=1024)  # one stored dataset file
    max_datasets_per_user: int = Field(50, ge=1)
    user_storage_max_bytes: int = Field(1024 * 1024 * 1024, ge=1024)  # all of a user's files
    max_imports_per_user: int = Field(1, ge=1)  # uploads and demos at once; more: refused
    max_concurrent_imports: int = Field(2, ge=1)  # server-wide; more wait their turn
    max_sockets_per_user: int = Field(16, ge=1)  # WebSocket connections per user and server

    # Dataset storage (docs/deployment.md): unset, the folder data_dir/datasets.
    storage_url: str | None = None  # s3://bucket/prefix: an S3-compatible object store
    storage_endpoint_url: str | None = None  # its endpoint, when not AWS (MinIO, Ceph...)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value == "":
            return None
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^?#]*)?", value):
            raise ValueError("must be s3://bucket or s3://bucket/prefix")
        if importlib.util.find_spec("boto3") is None:
            raise ValueError("needs the AWS SDK: pip install 'netra-apex[s3]'")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.lower()
        if value not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.env is Environment.production:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret) < 32:
                raise ValueError("NETRA_JWT_SECRET: required in production, at least 32 characters")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'netra.db'}"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.env is Environment.production

    def signing_key(self) -> bytes:
        if self.jwt_secret is None:
            raise SettingsError("NETRA_JWT_SECRET: not set and no data folder prepared")
        return self.jwt_secret.get_secret_value().encode()

    # The optional language model that reads questions and phrases answers (docs/questions.md,
    # "With a language model"). Unset NETRA_LLM_MODEL: the deterministic parser alone.
    llm_model: str | None = None  # "openai:gpt-4o-mini", "anthropic:claude-haiku-4-5", ...
    llm_base_url: str | None = None  # an OpenAI-compatible endpoint, a proxy, a gateway
    llm_api_key: SecretStr | None = None  # unset: the provider's own variable (OPENAI_API_KEY...)
    llm_timeout_s: float = Field(10.0, gt=0)  # per question; then the parser answers


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; raise SettingsError with one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = first["msg"].removeprefix("Value error, ")
        if message.startswith("NETRA_"):
            raise SettingsError(message) from None
        raise SettingsError(f"NETRA_{field.upper()}: {message}") from None


def prepare_data_dir(settings: Settings) -> Settings:
    """Create the data folder and, outside production, a persistent generated signing key.

    The folders are the server account's alone (0700), the key file too (0600), also when
    they already existed with wider modes.
    """
    for folder in (settings.data_dir, settings.datasets_dir):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    if settings.jwt_secret is not None:
        return settings
    key_file = settings.data_dir / "jwt_secret"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(48))
    key_file.chmod(0o600)
    return settings.model_copy(update={"jwt_secret": SecretStr(key_file.read_text().strip())})
