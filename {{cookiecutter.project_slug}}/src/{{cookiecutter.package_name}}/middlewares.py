"""The request path every component shares: request ids, headers, problem+json, deadlines.

`setup_requests` puts two middlewares around the handlers: `request_middleware` outermost (the
request id, in every log line of the request) and `problem_middleware` innermost (every error as
RFC 9457, and the request deadline). A component puts its own between the two with
`add_middleware`: its answers get the same headers, and the handlers' errors reach it as answers.
Each middleware layer costs a coroutine per request, measured in `make bench`, hence so few.

What every answer carries (the request id, security headers) is set in `on_response_prepare`,
which reaches streamed answers and upgraded connections too: no handler has to remember it.
"""

import logging
import random
import re
from collections.abc import Callable
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from .deadlines import DeadlineExceededError, Deadlines
from .logs import REQUEST_ID_HEADER, request_id_var
from .problems import as_problem, problem_response
from .routing import endpoints_key
from .settings import settings_key

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
API_HEADERS: Final = {**_SECURITY_HEADERS, hdrs.CONTENT_SECURITY_POLICY: _API_CSP}
_DOCS_HEADERS: Final = {**_SECURITY_HEADERS, hdrs.CONTENT_SECURITY_POLICY: _DOCS_CSP}

# Told of every error that no problem was registered for, before it is answered 500.
ErrorObserver = Callable[[web.Request, Exception], None]
error_observers_key = web.AppKey("error_observers", list[ErrorObserver])


def new_request_id() -> str:
    """A new request id: 32 hex digits."""
    # A correlation id, not a secret (a client may send its own): no getrandom(2) per call.
    return f"{random.getrandbits(128):032x}"


@web.middleware
async def request_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Give the request its id: the client's X-Request-ID when it is sound, else a new one."""
    request_id = request.headers.get(REQUEST_ID_HEADER)
    if request_id is None or not _VALID_REQUEST_ID.fullmatch(request_id):
        request_id = new_request_id()
    request_id_var.set(request_id)
    return await handler(request)


async def stamp(request: web.Request, response: web.StreamResponse) -> None:
    """Put the request id and the security headers on an answer about to be sent."""
    headers = response.headers
    headers.update(_DOCS_HEADERS if request.path.startswith("/docs") else API_HEADERS)
    if (request_id := request_id_var.get()) is not None:
        headers[REQUEST_ID_HEADER] = request_id


def problem_middleware(seconds: float, untimed: set[Handler]) -> Middleware:
    """Answer every error as problem+json, and 504 when a handler runs longer than `seconds`.

    Deadlines share timers (see deadlines.py). The handlers in `untimed` keep their connection
    open on purpose (a stream): they get no deadline.
    """
    deadlines = Deadlines(seconds)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if untimed and request.match_info.handler in untimed:
                return await handler(request)
            return await deadlines.run(handler(request), request.task.get_loop())
        except DeadlineExceededError:
            return problem_response(504, f"The request took longer than {seconds:g} s.")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            headers = (
                {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            )
            return problem_response(exc.status, headers=headers)
        except Exception as exc:
            if (problem := as_problem(request.app, exc)) is not None:
                return problem.response()
            log.exception("unhandled error in %s %s", request.method, request.path)
            for observe in request.app.get(error_observers_key, ()):
                observe(request, exc)
            return problem_response(500)

    return middleware


def setup_requests(app: web.Application) -> None:
    """The shared request path; call it before any component adds a middleware."""
    untimed: set[Handler] = set()

    async def find_untimed(app: web.Application) -> None:
        untimed.update(e.handler for e in app.get(endpoints_key, ()) if not e.timed)

    app.on_startup.append(find_untimed)
    app.on_response_prepare.append(stamp)
    app.middlewares.append(request_middleware)
    app.middlewares.append(
        problem_middleware(app[settings_key].request_timeout, untimed)
    )


def add_middleware(app: web.Application, middleware: Middleware) -> None:
    """Put `middleware` inside the request id and outside problem+json (see the module)."""
    app.middlewares.insert(len(app.middlewares) - 1, middleware)


def observe_errors(app: web.Application, observer: ErrorObserver) -> None:
    """Tell `observer` of every error answered 500 (to keep it with the request's context)."""
    app.setdefault(error_observers_key, []).append(observer)
