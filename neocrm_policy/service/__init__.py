"""The decision service: the policies over HTTP, for services not written in Python.

A room of its own above the engine: it imports the public API (`load`, `PolicySet`,
`Decision`, the errors) and the policy set as served (`deciding.served`: its revision,
and reloading off the request path with an atomic swap), and nothing imports it but the
CLI's `serve` command, lazily, so the library never needs the web stack. Its rooms:

- `config.py`: what an operator can set (folder, limits, decision log, admin token).
- `decision_log.py`: one JSON line per decision, written by a background thread from a
  bounded queue; drops are counted, never silent.
- `metrics.py`: counters and a histogram in Prometheus text format.
- `openapi.py`: the OpenAPI document of the API.
- `app.py`: the Starlette application (routes, errors as JSON).
- `server.py`: running it on uvicorn, with workers and SIGHUP.

It needs the `serve` extra: ``pip install 'neocrm-policy[serve]'``.
"""

from .config import ServiceConfig

__all__ = ["ServiceConfig", "create_app", "run"]


def create_app(config: ServiceConfig):
    """The ASGI application for `config` (imports the web stack on first use)."""
    from .app import create_app as make
    return make(config)


def run(config: ServiceConfig) -> None:
    """Serve until interrupted (imports uvicorn on first use)."""
    from .server import run as serve
    serve(config)
