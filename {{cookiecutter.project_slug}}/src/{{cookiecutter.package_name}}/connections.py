"""HTTP connections before a request reaches the app: requests the parser rejects, slow clients.

aiohttp answers a request that its parser rejects by itself, before any middleware runs, as
text/plain with its own Server header, and logs a traceback; and it gives a client the whole
keep-alive time to send a request (aio-libs/aiohttp#3287 asks for a hook; there is none).
`serve_app` serves the app through connections of `EdgeRequestHandler`, which answer those
requests like every other error (problem+json, the same headers, the connection closed) with
one log line, close a connection whose request head takes longer than HEADER_TIMEOUT, and fail
the reading of a body that takes longer than BODY_TIMEOUT (the handler answers 408).
"""

import asyncio
import logging
import signal
from typing import Any

from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.web_request import BaseRequest

from .logs import REQUEST_ID_HEADER, request_id_var
from .middlewares import API_HEADERS, new_request_id
from .problems import ProblemError, ToProblem, problem_response, register_problems

log = logging.getLogger(__name__)


class BodyTimeoutError(TimeoutError):
    """The client took longer than BODY_TIMEOUT to send a request's body."""


# The handler that was reading the body answers 408, and the connection closes.
PROBLEMS: dict[type[Exception], ToProblem] = {
    BodyTimeoutError: lambda error: ProblemError(
        408, str(error), headers={"Connection": "close"}
    )
}


class EdgeRequestHandler(web.RequestHandler):
    """aiohttp's connection, with problem+json for parser errors and bounds on slow clients."""

    __slots__ = (
        "_body",
        "_body_timeout",
        "_body_timer",
        "_head_timeout",
        "_head_timer",
    )

    def __init__(
        self,
        manager: web.Server,
        *,
        header_timeout: float,
        body_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, **kwargs)
        self._head_timeout = header_timeout
        self._body_timeout = body_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        # The body of the latest request, while it may still be arriving.
        self._body: StreamReader | None = None

    def data_received(self, data: bytes) -> None:
        requests = self._request_count
        in_body = self._body is not None and not self._body.is_eof()
        super().data_received(data)
        if self._request_count != requests:
            self._head_received()
        elif data and not in_body and self._head_timer is None and not self._upgraded:
            # The first bytes of a request head: it has HEADER_TIMEOUT to be complete. A head
            # that comes in one piece (nearly all of them) never arms this timer.
            self._head_timer = self._loop.call_later(
                self._head_timeout, self._head_too_slow
            )

    def _head_received(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        body = self._messages[-1][1] if self._messages else None
        if body is not None and not body.is_eof():
            self._body = body
            self._body_timer = self._loop.call_later(
                self._body_timeout, self._body_too_slow
            )
        else:
            self._body = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        log.info(
            "closed the connection of %s: no complete request head in %g s",
            self.peername,
            self._head_timeout,
        )
        if self._request_in_progress:
            self.close()  # after the answer being made, as the head behind it cannot be read
        else:
            self.force_close()

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self._body is not None and not self._body.is_eof():
            log.info(
                "the request body from %s took over %g s",
                self.peername,
                self._body_timeout,
            )
            self._body.set_exception(
                BodyTimeoutError(
                    f"The request body took longer than {self._body_timeout:g} s."
                )
            )

    def connection_lost(self, exc: BaseException | None) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None
        self._body = None
        super().connection_lost(exc)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer a request that never reached the app's middlewares, as they would have."""
        del message  # aiohttp's text of the error quotes the request: never sent
        if request.writer.output_size > 0:
            raise ConnectionError(
                "an answer was under way: no error answer can follow it"
            )
        request_id = new_request_id()
        request_id_var.set(request_id)
        if status >= 500:
            self.log_exception(
                "error handling a request from %s", request.remote, exc_info=exc
            )
        else:
            # The client's mistake, not the server's: no traceback, and nothing of the request.
            reason = type(exc).__name__ if exc is not None else "bad request"
            log.info(
                "answered %d to a request that is not valid HTTP: %s", status, reason
            )
        response = problem_response(
            status, "The request is not valid HTTP/1.1." if status == 400 else None
        )
        response.headers.update(API_HEADERS)
        response.headers[REQUEST_ID_HEADER] = request_id
        # What follows a request that could not be parsed cannot be framed either.
        response.force_close()
        return response


class EdgeServer(web.Server):
    """aiohttp's server, making EdgeRequestHandler connections."""

    def __call__(self) -> web.RequestHandler:
        return EdgeRequestHandler(self, loop=self._loop, **self._kwargs)


class EdgeRunner(web.AppRunner):
    """aiohttp's AppRunner, serving through EdgeServer."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # AppRunner builds a plain Server and offers no hook for its connections' class: this
        # one makes the same connections, as EdgeRequestHandlers, from the same arguments.
        server.__class__ = EdgeServer
        return server


async def serve_app(
    app: web.Application, *, host: str, port: int, reuse_port: bool, **kwargs: Any
) -> None:
    """Serve `app` until SIGINT or SIGTERM, then shut it down gracefully, as web.run_app does.

    `kwargs` go to the runner: those of web.run_app, plus header_timeout and body_timeout.
    """
    # First of all, so that a signal during the start still ends in a graceful stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("serving on http://%s:%d", host, port)
    register_problems(app, PROBLEMS)
    runner = EdgeRunner(app, **kwargs)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
        await stop.wait()
    finally:
        await runner.cleanup()
