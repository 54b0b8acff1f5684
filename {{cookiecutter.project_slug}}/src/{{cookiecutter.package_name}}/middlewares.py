"""The two request-path middlewares: request context outside, errors and timeouts inside.

`request_middleware` gives each request its id{% if cookiecutter.use_metrics %}, notes it in the metrics{% endif %} and stamps the id and
the security headers on the answer. `problem_middleware` bounds the handler's time and turns
every error into an RFC 9457 answer.{% if cookiecutter.use_redis %} Anything between the two (the rate limiter) sees errors
as answers and has its own answers stamped.{% endif %} Two layers, not one per concern: each layer
costs a coroutine per request, measured in `make bench`.
"""

import logging
import random
import re
{%- if cookiecutter.use_metrics %}
import time
{%- endif %}
{%- if cookiecutter.use_websocket %}
from collections.abc import Collection
{%- endif %}
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware
{%- if cookiecutter.use_tracing %}
from opentelemetry import trace
{%- endif %}

from .deadlines import DeadlineExceededError, Deadlines
from .logs import REQUEST_ID_HEADER, request_id_var
{%- if cookiecutter.use_metrics %}
from .metrics import Metrics
{%- endif %}
from .problems import as_problem, problem_response

log = logging.getLogger(__name__)

# A client's request id is reused only when it is short and harmless in a log line.
_VALID_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_API_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI needs its own scripts, inline styles and data: images, and nothing remote.
_DOCS_CSP: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)
# Keyed by aiohttp's case-insensitive header names: one update costs less than five assignments.
_SECURITY_HEADERS: Final = {
    hdrs.SERVER: "{{ cookiecutter.project_slug }}",
    hdrs.X_CONTENT_TYPE_OPTIONS: "nosniff",
    hdrs.X_FRAME_OPTIONS: "DENY",
    hdrs.REFERRER_POLICY: "no-referrer",
}
_API_HEADERS: Final = {**_SECURITY_HEADERS, hdrs.CONTENT_SECURITY_POLICY: _API_CSP}
_DOCS_HEADERS: Final = {**_SECURITY_HEADERS, hdrs.CONTENT_SECURITY_POLICY: _DOCS_CSP}


def stamp(request: web.Request, response: web.StreamResponse, request_id: str) -> None:
    """Put the request id and the security headers on an answer that is not sent yet.

    The middleware does it for every answer a handler returns; a handler that sends its
    answer itself{% if cookiecutter.use_websocket %} (a WebSocket handshake){% endif %} calls it before `prepare()`.
    """
    headers = response.headers
    headers.update(_DOCS_HEADERS if request.path.startswith("/docs") else _API_HEADERS)
    headers[REQUEST_ID_HEADER] = request_id


{% if cookiecutter.use_metrics -%}
def request_middleware(metrics: Metrics) -> Middleware:
    """Give each request an id, note it in `metrics` and stamp its answer."""
{%- else -%}
def request_middleware() -> Middleware:
    """Give each request an id and stamp its answer."""
{%- endif %}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request.headers.get(REQUEST_ID_HEADER)
        if request_id is None or not _VALID_REQUEST_ID.fullmatch(request_id):
            # A correlation id, not a secret (a client may send its own): no getrandom(2) per call.
            request_id = f"{random.getrandbits(128):032x}"
        request_id_var.set(request_id)
{%- if cookiecutter.use_metrics %}
        start = time.perf_counter()
        metrics.in_flight += 1
        status = 500
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as exc:  # a redirect: problem_middleware answers the rest
            status = exc.status
            raise
        finally:
            metrics.in_flight -= 1
            metrics.note(request, status, time.perf_counter() - start)
{%- else %}
        response = await handler(request)
{%- endif %}
        if not response.prepared:
            stamp(request, response, request_id)
        return response

    return middleware
{%- if cookiecutter.use_websocket %}


def problem_middleware(seconds: float, unbounded: Collection[Handler] = ()) -> Middleware:
    """Answer every error as problem+json, and 504 when a handler runs longer than `seconds`.

    Deadlines share timers (see deadlines.py). The handlers in `unbounded` keep their
    connection open on purpose (a WebSocket): they get no deadline.
    """
    deadlines = Deadlines(seconds)
    exempt = frozenset(unbounded)
{%- else %}


def problem_middleware(seconds: float) -> Middleware:
    """Answer every error as problem+json, and 504 when a handler runs longer than `seconds`.

    Deadlines share timers (see deadlines.py).
    """
    deadlines = Deadlines(seconds)
{%- endif %}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
{%- if cookiecutter.use_websocket %}
            if request.match_info.handler in exempt:
                return await handler(request)
{%- endif %}
            return await deadlines.run(handler(request), request.task.get_loop())
        except DeadlineExceededError:
            return problem_response(504, f"The request took longer than {seconds:g} s.")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            return problem_response(exc.status, headers=headers)
        except Exception as exc:
            if (problem := as_problem(request.app, exc)) is not None:
                return problem.response()
            log.exception("unhandled error in %s %s", request.method, request.path)
{%- if cookiecutter.use_tracing %}
            # The client learns nothing of the cause; the request's span (when traced) keeps it.
            trace.get_current_span().record_exception(exc)
{%- endif %}
            return problem_response(500)

    return middleware
