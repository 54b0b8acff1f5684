"""Health endpoints: /livez says the process runs, /readyz that its dependencies answer."""

import asyncio
import logging
from collections.abc import Awaitable
from typing import Final

from aiohttp import web

{% if cookiecutter.use_redis and cookiecutter.database != "none" %}from . import cache, db
{% elif cookiecutter.use_redis %}from . import cache
{% elif cookiecutter.database != "none" %}from . import db
{% endif %}from .problems import problem_response
from .routing import Endpoint
from .schemas import Status
{% if cookiecutter.database != "none" or cookiecutter.use_redis %}from .settings import settings_key
{% endif %}
log = logging.getLogger(__name__)

_OK: Final = b'{"status":"ok"}'


async def livez(_request: web.Request) -> web.Response:
    """200 while the event loop turns; touches nothing else."""
    return web.Response(body=_OK, content_type="application/json")


async def _check(probe: Awaitable[None]) -> str:
    """Return "ok", or "unavailable" when the probe fails in any way (the log says how)."""
    try:
        await probe
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness probe failed: %s", type(exc).__name__)
        return "unavailable"
    return "ok"


async def readyz({% if cookiecutter.database == "none" and not cookiecutter.use_redis %}_request{% else %}request{% endif %}: web.Request) -> web.Response:
    """200 when every dependency answers in time; 503 naming the ones that did not.

    The probes run concurrently, each bounded by its own timeout setting.
    """
{%- if cookiecutter.database == "none" and not cookiecutter.use_redis %}
    probes: dict[str, Awaitable[None]] = {}
{%- else %}
    app = request.app
    probes: dict[str, Awaitable[None]] = {
{%- if cookiecutter.database != "none" %}
        "database": app[db.database_key].ping(app[settings_key].db_timeout),
{%- endif %}
{%- if cookiecutter.use_redis %}
        "redis": cache.ping(app[cache.redis_key], app[settings_key].redis_timeout),
{%- endif %}
    }
{%- endif %}
    results = await asyncio.gather(*map(_check, probes.values()))
    checks = dict(zip(probes, results, strict=True))
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return problem_response(
            503,
            f"Not ready: {', '.join(failed)} unavailable.",
            checks=checks,
            headers={"Retry-After": "5"},
        )
    return web.json_response({"status": "ok", "checks": checks})


ENDPOINTS = (
    Endpoint(method="GET", path="/livez", handler=livez, summary="Liveness probe", tag="health",
             response=Status),
    Endpoint(method="GET", path="/readyz", handler=readyz, summary="Readiness probe",
             tag="health", response=Status, errors=(503,)),
)  # fmt: skip
