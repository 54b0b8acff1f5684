"""Health endpoints: /livez says the process runs, /readyz that its dependencies answer."""

import logging
from typing import Final

from aiohttp import web

{% if cookiecutter.database != "none" %}from .db import engine_key, ping
{% endif %}from .problems import problem_response
from .routing import Endpoint
from .schemas import Status
{% if cookiecutter.database != "none" %}from .settings import settings_key
{% endif %}
log = logging.getLogger(__name__)

_OK: Final = b'{"status":"ok"}'


async def livez(_request: web.Request) -> web.Response:
    """200 while the event loop turns; touches nothing else."""
    return web.Response(body=_OK, content_type="application/json")


async def readyz(request: web.Request) -> web.Response:
    """200 when every dependency answers in time; 503 naming the ones that did not."""
    checks: dict[str, str] = {}
{%- if cookiecutter.database != "none" %}
    try:
        await ping(request.app[engine_key], request.app[settings_key].db_timeout)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the log has it
        log.warning("readiness: database unavailable: %s", type(exc).__name__)
        checks["database"] = "unavailable"
{%- endif %}
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
