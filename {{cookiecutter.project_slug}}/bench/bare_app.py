"""The baseline: aiohttp on uvloop answering what /livez answers, with nothing else on the path.

No middlewares, no access log, no metrics: what the service is measured against.
Run by bench/run.py: `PORT=8081 python bench/bare_app.py`.
"""

import os

import uvloop
from aiohttp import web

_OK = b'{"status":"ok"}'


async def livez(_request: web.Request) -> web.Response:
    """The same answer as the service's /livez."""
    return web.Response(body=_OK, content_type="application/json")


def main() -> None:
    """Serve on 127.0.0.1:$PORT until SIGINT or SIGTERM."""
    app = web.Application()
    app.router.add_get("/livez", livez)
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
