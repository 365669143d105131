"""gunicorn, embedded: WORKERS processes (1 by default), each with many threads (each websocket
holds one). Several processes share the listening socket and reach each other's screens through
SOCKETIO_MESSAGE_QUEUE (Redis); see cli.serve."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Embedded(BaseApplication):
    def __init__(self, app, options):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def run_gunicorn(
    app, host: str, port: int, threads: int, after_fork=None, before_exit=None, workers: int = 1
) -> None:
    """`after_fork(app)` runs in the worker process: connections and threads made before the
    fork must not be shared with it. `before_exit(app)` runs there when it stops."""
    _Embedded(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 120,
            # gunicorn's 2 s keep-alive stays: it is also how long a connection that sends
            # nothing holds one of the worker's connections (1,000), so a longer one would let
            # a silent client on the LAN fill them with a few connects a second.
            "graceful_timeout": 10,
            "accesslog": None,
            "post_worker_init": (lambda _worker: after_fork(app))
            if after_fork
            else (lambda _w: None),
            "worker_exit": (lambda _arbiter, _worker: before_exit(app))
            if before_exit
            else (lambda _a, _w: None),
        },
    ).run()
