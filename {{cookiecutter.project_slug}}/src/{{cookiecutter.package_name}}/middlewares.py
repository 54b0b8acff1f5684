"""Request-path middlewares and response headers: request id, errors, timeouts, security."""

import logging
import random
import re
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
from .problems import ProblemError, problem_response

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


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Echo a valid X-Request-ID or make one, and expose it to every log line of the request."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    if incoming is None or not _VALID_REQUEST_ID.fullmatch(incoming):
        # A correlation id, not a secret (a client may send its own): no getrandom(2) per call.
        incoming = f"{random.getrandbits(128):032x}"
    request_id_var.set(incoming)
    response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = incoming
    return response


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into an RFC 9457 answer; a crash becomes a 500 that reveals nothing."""
    try:
        return await handler(request)
    except ProblemError as exc:
        return problem_response(exc.status, exc.detail, headers=exc.headers, **exc.extensions)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return problem_response(exc.status, headers=headers)
    except Exception{% if cookiecutter.use_tracing %} as exc{% endif %}:
        log.exception("unhandled error in %s %s", request.method, request.path)
{%- if cookiecutter.use_tracing %}
        # The client learns nothing of the cause; the request's span (when traced) keeps it.
        trace.get_current_span().record_exception(exc)
{%- endif %}
        return problem_response(500)
{%- if cookiecutter.use_websocket %}


def timeout_middleware(seconds: float, unbounded: Collection[Handler] = ()) -> Middleware:
    """Answer 504 when a handler runs longer than `seconds` (timers shared, see deadlines.py).

    The handlers in `unbounded` keep their connection open on purpose (a WebSocket): no deadline.
    """
    deadlines = Deadlines(seconds)
    exempt = frozenset(unbounded)
{%- else %}


def timeout_middleware(seconds: float) -> Middleware:
    """Answer 504 when a handler runs longer than `seconds` (timers shared, see deadlines.py)."""
    deadlines = Deadlines(seconds)
{%- endif %}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
{%- if cookiecutter.use_websocket %}
        if request.match_info.handler in exempt:
            return await handler(request)
{%- endif %}
        try:
            return await deadlines.run(handler(request), request.task.get_loop())
        except DeadlineExceededError:
            raise ProblemError(504, f"The request took longer than {seconds:g} s.") from None

    return middleware


async def set_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: reaches every answer, streamed ones included."""
    response.headers.update(_DOCS_HEADERS if request.path.startswith("/docs") else _API_HEADERS)
