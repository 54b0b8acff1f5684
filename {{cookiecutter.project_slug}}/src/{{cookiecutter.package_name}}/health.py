"""Health endpoints: /livez says the process runs, /readyz that its dependencies answer.

Each resource registers its own readiness probe when it opens (`register_probe`), so this
module knows none of them.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from .problems import problem_response
from .routing import Endpoint, add_endpoints
from .schemas import Status

log = logging.getLogger(__name__)

# Raises unless its dependency answers; bounded in time by the probe itself.
Probe = Callable[[], Awaitable[None]]
probes_key = web.AppKey("probes", dict[str, Probe])
_OK: Final = b'{"status":"ok"}'


def register_probe(app: web.Application, name: str, probe: Probe) -> None:
    """Make /readyz ask `probe` too, and name `name` when it fails."""
    app.setdefault(probes_key, {})[name] = probe


async def livez(_request: web.Request) -> web.Response:
    """200 while the event loop turns; touches nothing else."""
    return web.Response(body=_OK, content_type="application/json")


async def _check(probe: Probe) -> str:
    """Return "ok", or "unavailable" when the probe fails in any way (the log says how)."""
    try:
        await probe()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness probe failed: %s", type(exc).__name__)
        return "unavailable"
    return "ok"


async def readyz(request: web.Request) -> web.Response:
    """200 when every dependency answers in time; 503 naming the ones that did not.

    The probes run concurrently, each bounded by its own timeout setting.
    """
    probes = request.app.get(probes_key, {})
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


def setup_health(app: web.Application) -> None:
    """Serve /livez and /readyz."""
    add_endpoints(app, ENDPOINTS)
