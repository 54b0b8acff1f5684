"""Log setup: JSON or console lines, the request id in each, written in batches.

The access logger, which hands its lines to these handlers, is in access.py.
"""

import asyncio
import logging
import sys
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, TextIO

import orjson
from multidict import istr

# An istr, as aiohttp's own header names: looked up without case-folding it each time.
REQUEST_ID_HEADER: Final = istr("X-Request-ID")
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
ACCESS_MESSAGE: Final = "%s %s %s"
# An access line's fields: time, logger, method, path, status, seconds, request id, user id.
AccessFields = tuple[float, str, str, str, int, float, str | None, int | None]


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
        # The time text of the last millisecond and second: a busy server writes many lines
        # in each, so the text is made once per millisecond rather than for every line.
        self._millisecond: tuple[int, str] = (-1, "")
        self._second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        milliseconds = int(created * 1000)
        known, text = self._millisecond
        if milliseconds == known:
            return text
        second, millis = divmod(milliseconds, 1000)
        known, prefix = self._second
        if second != known:
            prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, prefix)
        text = f"{prefix}.{millis:03d}+00:00"
        self._millisecond = (milliseconds, text)
        return text

    def access_line(self, fields: AccessFields) -> str:
        """The line `format` writes for the access record AccessLogger would make."""
        created, logger, method, path, status, seconds, request_id, user_id = fields
        line: dict[str, object] = {
            "time": self._time(created),
            "level": "INFO",
            "logger": logger,
            "message": f"{method} {path} {status}",
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        if request_id is not None:
            line["request_id"] = request_id
        if user_id is not None:
            line["user_id"] = user_id
        return orjson.dumps(line).decode()

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

    On a running loop a line waits for the loop's next iteration, so a busy server makes one
    write(2) for many requests instead of one each. Off the loop (start-up, shutdown, other
    threads) a line is written at once, after any that wait; `flush()`, which
    logging.shutdown() calls at exit, writes whatever is left.

    Access lines come as their fields (`access_later`) and are formatted when written: many
    in one go cost less than one per request.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        # The loop (and its thread) that will write the pending lines at its next iteration.
        self._flushing_loop: asyncio.AbstractEventLoop | None = None
        self._flushing_thread = 0
        # Fields of access lines: added and taken on the serving loop's thread only, so
        # without the lock (which the access logger would otherwise take once per request).
        self._access: list[AccessFields] = []
        self._access_thread = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._add(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - what logging.StreamHandler.emit does too
            self.handleError(record)

    def access_later(
        self, fields: AccessFields, loop: asyncio.AbstractEventLoop
    ) -> None:
        """Queue an access line; to be called on `loop`, running, in its own thread."""
        access = self._access
        if not access:
            self._access_thread = threading.get_ident()
            loop.call_soon(self._flush_soon)
        access.append(fields)

    def _add(self, line: str) -> None:
        self._pending.append(line)
        loop = self._flushing_loop
        thread = threading.get_ident()
        if loop is not None and self._flushing_thread == thread and loop.is_running():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flushing_loop, self._flushing_thread = loop, thread
        loop.call_soon(self._flush_soon)

    def flush(self) -> None:
        self.acquire()
        try:
            self._flushing_loop = None
            lines = "".join(self._pending)
            self._pending = []
            if self._access and threading.get_ident() == self._access_thread:
                access, self._access = self._access, []
                formatter = self.formatter
                if not isinstance(formatter, JsonFormatter):
                    formatter = JsonFormatter()
                end = self.terminator
                lines += "".join(
                    formatter.access_line(fields) + end for fields in access
                )
            if lines:
                self.stream.write(lines)
            super().flush()
        finally:
            self.release()

    def _flush_soon(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the lines are dropped; logging reports the error
            self.handleError(
                logging.makeLogRecord({"msg": "writing buffered log lines"})
            )


def line_format(fmt: str, stream: TextIO) -> str:
    """The format of the lines: the one asked for, or for "auto" the one for who reads them.

    Console lines for a person at a terminal, JSON for a machine (a file, a pipe, a
    container's log collector).
    """
    if fmt != "auto":
        return fmt
    return "console" if stream.isatty() else "json"


def setup_logging(level: str, fmt: str) -> None:
    """Send every logger's records to stderr in the chosen format (see `line_format`).

    Records skip the thread and process names that neither format writes: each costs a
    lookup on every record (the logging documentation's "Optimization" switches).
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = BatchingStreamHandler(sys.stderr)
    json_lines = line_format(fmt, sys.stderr) == "json"
    handler.setFormatter(JsonFormatter() if json_lines else ConsoleFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
