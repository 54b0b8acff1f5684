"""Typed settings, read once at start from the environment and an optional `.env` file."""

from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field{% if cookiecutter.database != "none" or cookiecutter.__redis or cookiecutter.use_sentry %}, SecretStr{% endif %}, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

{%- if cookiecutter.database == "sqlite" %}

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/db.sqlite3"
POOL_SIZE = 4
{%- elif cookiecutter.database == "postgresql" %}

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
POOL_SIZE = 10
{%- endif %}
{%- if cookiecutter.__redis %}
{%- if cookiecutter.database == "none" %}
{% endif %}
_CACHE_PREFIX = "{{ cookiecutter.project_slug }}:"
{%- endif %}


class Settings(BaseSettings):
    """Everything the service can be told; each field is an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port to listen on.")
    workers: int = Field(1, ge=1, le=64, description="Processes serving the same port.")
{%- if cookiecutter.database != "none" %}
    database_url: SecretStr = Field(
        SecretStr(DEFAULT_DATABASE_URL), description="SQLAlchemy async URL."
    )
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}
    db_pool_size: int = Field(
        POOL_SIZE, ge=1, le=100, description="Connections to PostgreSQL, used in turns."
    )
    db_statement_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds PostgreSQL lets one statement run before cancelling it.",
    )
{%- elif cookiecutter.database == "sqlite" %}
    db_pool_size: int = Field(
        POOL_SIZE,
        ge=1,
        le=64,
        description="Connections reading SQLite at once, one thread each.",
    )
{%- endif %}
{%- if cookiecutter.database != "none" %}
    db_timeout: float = Field(
        5.0,
        gt=0,
        description="Seconds a statement may wait for its turn, a lock or a new connection.",
    )
{%- endif %}
{%- if cookiecutter.__redis %}
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"), description="Redis URL."
    )
    redis_timeout: float = Field(
        2.0, gt=0, description="Seconds a Redis call may take."
    )
    cache_ttl: int = Field(60, ge=1, description="Seconds an item stays in the cache.")
    cache_prefix: str = Field(
        _CACHE_PREFIX, description="Prefix of this service's Redis keys."
    )
{%- endif %}
{%- if cookiecutter.__redis %}
    rate_limit: int = Field(
        0,
        ge=0,
        description="Requests a client may make per window; 0 turns the limit off.",
    )
    rate_limit_window: int = Field(
        60, ge=1, description="Seconds of a rate-limit window."
    )
    trusted_proxies: int = Field(
        0,
        ge=0,
        le=10,
        description="Reverse proxies in front that append the client to X-Forwarded-For.",
    )
{%- endif %}
{%- if cookiecutter.auth == "jwt" %}
    jwt_secret: SecretStr = Field(
        SecretStr(""),
        description="Key that signs access tokens, 32 characters or more; required to serve.",
    )
    access_token_ttl: int = Field(
        900, ge=1, le=86_400, description="Seconds an access token stays valid."
    )
{%- endif %}
{%- if cookiecutter.auth == "jwt" and cookiecutter.__redis %}
    login_rate_limit: int = Field(
        10,
        ge=0,
        description="Token requests per RATE_LIMIT_WINDOW, per client and per username; 0: off.",
    )
{%- endif %}
{%- if cookiecutter.use_websocket %}
    feed_queue_size: int = Field(
        100,
        ge=1,
        le=100_000,
        description="Events a feed socket may lag behind before it closes.",
    )
    feed_heartbeat: float = Field(
        30.0,
        gt=0,
        description="Seconds between pings on a feed socket; no pong in half closes it.",
    )
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
    job_timeout: float = Field(
        300.0, gt=0, description="Seconds a job may run before it fails."
    )
    max_jobs: int = Field(
        10, ge=1, le=1000, description="Jobs one worker runs at the same time."
    )
    job_result_ttl: int = Field(
        3600, ge=0, description="Seconds a job's result is kept in Redis; 0 keeps none."
    )
{%- endif %}
{%- if cookiecutter.use_tracing %}
    otel_exporter_otlp_endpoint: str = Field(
        "",
        description="OTLP/HTTP collector URL, traces go to <url>/v1/traces; empty: no tracing.",
    )
    otel_exporter_otlp_traces_endpoint: str = Field(
        "",
        description="OTLP/HTTP URL of traces; overrides OTEL_EXPORTER_OTLP_ENDPOINT.",
    )
    otel_service_name: str = Field(
        "{{ cookiecutter.project_slug }}",
        min_length=1,
        description="service.name of the spans.",
    )
    otel_sdk_disabled: bool = Field(
        default=False, description="Turn tracing off even when an endpoint is set."
    )
{%- endif %}
{%- if cookiecutter.use_sentry %}
    sentry_dsn: SecretStr = Field(
        SecretStr(""),
        description="Sentry DSN; errors are reported only when it is set.",
    )
    sentry_environment: str = Field(
        "production", min_length=1, description="Environment named on Sentry events."
    )
    sentry_traces_sample_rate: float = Field(
        0.0, ge=0, le=1, description="Share of requests traced to Sentry, from 0 to 1."
    )
{%- endif %}
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest level written to the log."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto",
        description="Log line format; auto: console lines on a terminal, else JSON.",
    )
    access_log: bool = Field(
        default=True, description="Write one log line per request."
    )
    request_timeout: float = Field(
        30.0, gt=0, description="Seconds a request may take before a 504 answer."
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a client may take to send a request's head, once begun.",
    )
    body_timeout: float = Field(
        20.0,
        gt=0,
        description="Seconds a client may take to send a request's body; else 408.",
    )
    keepalive_timeout: float = Field(
        75.0,
        gt=0,
        description="Seconds an idle connection stays open for the next request.",
    )
    shutdown_timeout: float = Field(
        20.0, gt=0, description="Seconds in-flight requests get to finish on SIGTERM."
    )
    client_max_size: int = Field(
        1024 * 1024, ge=1024, description="Largest accepted request body, in bytes."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API, comma-separated; none by default.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value
{%- if cookiecutter.auth == "jwt" %}

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if 0 < len(value.get_secret_value()) < 32:
            raise ValueError(
                "must be at least 32 characters (make one: openssl rand -hex 32)"
            )
        return value
{%- endif %}
{%- if cookiecutter.use_tracing %}

    @field_validator(
        "otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (OTLP over HTTP)")
        return value
{%- endif %}


settings_key = web.AppKey("settings", Settings)
