"""Log setup: JSON or console lines, the request id in each, and a cheap access logger."""

import asyncio
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, TextIO

import orjson
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REQUEST_ID_HEADER: Final = "X-Request-ID"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_ACCESS_MESSAGE: Final = "%s %s %s"


def _extras(record: logging.LogRecord) -> list[tuple[str, object]]:
    """The fields given with `extra=` (and the request id), in the order they were set."""
    return [
        (key, value)
        for key, value in record.__dict__.items()
        if value is not None and key not in _STANDARD
    ]


class RequestIdFilter(logging.Filter):
    """Copies the current request id onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    def __init__(self) -> None:
        super().__init__()
        # The time text up to the second, rebuilt once a second rather than for every line.
        self._second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        second, millis = divmod(int(created * 1000), 1000)
        cached, text = self._second
        if second != cached:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{text}.{millis:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """Readable lines for a terminal, extras appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = " ".join(f"{key}={value}" for key, value in _extras(record))
        return f"{text} {extras}" if extras else text


class BatchingStreamHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler that writes the lines of one event-loop iteration with one write.

    On the loop, a line waits for the loop's next iteration, so a busy server makes one
    write(2) for many requests instead of one each. Off the loop (start-up, shutdown, other
    threads) every line is written at once, after any that wait; `flush()` (called by
    logging.shutdown at exit) writes whatever is left.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._pending.append(self.format(record) + self.terminator)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            if self._scheduled_on is not loop:
                self._scheduled_on = loop
                loop.call_soon(self._flush_scheduled)
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - what logging.StreamHandler.emit does too
            self.handleError(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._scheduled_on = None
            if self._pending:
                lines = "".join(self._pending)
                self._pending.clear()
                self.stream.write(lines)
            super().flush()
        finally:
            self.release()

    def _flush_scheduled(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the lines are dropped; logging reports the error
            self.handleError(logging.makeLogRecord({"msg": "writing buffered log lines"}))


def setup_logging(level: str, fmt: str) -> None:
    """Send every logger's records to stderr in the chosen format.

    Records skip the thread, process and task names that neither format writes: each costs
    a lookup on every record (the logging documentation's "Optimization" switches).
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if sys.version_info >= (3, 12):
        logging.logAsyncioTasks = False
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class AccessLogger(AbstractAccessLogger):
    """One record per request with method, path, status, duration and request id.

    aiohttp's default access logger parses a format string for every request. This one
    makes the record itself and hands it to the handlers: no search of the call stack for a
    source line, which an access line has no use for. aiohttp asks `enabled` once per
    connection and calls `log` only when it is true.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        logger = self.logger
        method, path, status = request.method, request.path, response.status
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            0,
            _ACCESS_MESSAGE,
            (method, path, status),
            None,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(time * 1000, 3),
                "request_id": response.headers.get(REQUEST_ID_HEADER),
            },
        )
        logger.handle(record)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
