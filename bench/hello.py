"""The baseline: a bare Starlette hello-world route on uvicorn over HTTPS (same settings as azemu)."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request):  # type: ignore[no-untyped-def]
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/hello", hello)])

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    a = p.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=a.port,
        ssl_certfile=a.cert,
        ssl_keyfile=a.key,
        log_level="warning",
        access_log=False,
    )
