"""The comparison: FastAPI on uvicorn (uvloop, httptools, no access log) answering /livez.

The handler returns the encoded body, as the service's /livez does: FastAPI's fastest path.
Needs the `bench` extra (`make bench` installs it). Run by bench/run.py:
`PORT=8082 python bench/fastapi_app.py`.
"""

import os

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

_OK = b'{"status":"ok"}'


async def livez() -> Response:
    """The same answer as the service's /livez."""
    return Response(content=_OK, media_type="application/json")


def main() -> None:
    """Serve on 127.0.0.1:$PORT until SIGINT or SIGTERM."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.add_api_route("/livez", livez, methods=["GET"])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
