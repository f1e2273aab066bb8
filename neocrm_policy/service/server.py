"""Running the application on uvicorn: one process, or several workers.

With one worker the application is built here, from a policy set already loaded (so a
bad folder is reported before the port opens). With several, uvicorn's supervisor starts
worker processes that each build their own from the configuration it hands them through
the environment; each has its own policy set, metrics and decision log file.
"""

from __future__ import annotations

import os

import uvicorn

from .app import create_app
from .config import ENVIRONMENT, ServiceConfig
from .policies import Served


def run(config: ServiceConfig, served: Served | None = None) -> None:
    # httptools when installed (the `serve` extra has it): in benchmarks/bench_serve.py
    # --variants it answered 1.2-2.4 times the requests of h11. The stock asyncio loop:
    # uvloop answered fewer there, so it is not picked even when installed.
    common = dict(host=config.host, port=config.port, loop="asyncio", log_level="warning",
                  access_log=False, server_header=False, date_header=False,
                  timeout_graceful_shutdown=5)
    if config.workers == 1:
        uvicorn.run(create_app(config, served), **common)
        return
    os.environ[ENVIRONMENT] = config.to_environment()
    uvicorn.run("neocrm_policy.service.app:app_from_environment", factory=True,
                workers=config.workers, **common)
