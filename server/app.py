"""The app factory: config, database, Socket.IO, blueprints, CLI."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, request, send_from_directory
from flask_wtf.csrf import CSRFProtect

from server import (
    clock,
    error_pages,
    i18n,
    input_guard,
    ratelimit,
    realtime,
    sockets,
    websocket_writes,
)
from server import csrf as csrf_rules
from server.config import default_instance_path, load_config, several_workers
from server.db import Database, reading, writing
from server.engine import DomainError
from server.web import error_response

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    instance_path = Path(config.pop("INSTANCE_PATH", None) or default_instance_path())
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "server" / "static"),
        static_url_path="/static",
    )
    app.config.update(load_config(instance_path, config))
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(app.config["SESSION_HOURS"]))
    clock.set_timezone(app.config.get("TIMEZONE", "Asia/Shanghai"))
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))

    db = Database(app.config["DATABASE_URL"])
    app.extensions["handover_db"] = db

    @app.teardown_appcontext
    def _remove_session(_exc):
        db.scoped.remove()

    @app.before_request
    def _auth_without_write_lock():
        # The auth check (and a whole GET) reads without SQLite's write lock; anything else
        # then writes with it from its first query on (see server/db.py).
        from server.auth import current_actor

        session = db.scoped()
        reading(session)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            current_actor()
            writing(session)

    i18n.init_app(app)
    input_guard.init_app(app)  # before the blueprints: their <int:...> rules use its converter
    # Gives every template csrf_token(); base.html puts it in a meta tag and ui.js's api()
    # sends it as X-CSRFToken. server/csrf.py enforces it on every state-changing request.
    csrf_rules.init_app(app, csrf)
    csrf.init_app(app)
    ratelimit.init_app(app)

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        return error_response(err)

    from admin import register_pages as register_admin_pages
    from admin.floor_plans import bp as floor_plans_bp
    from admin.printing import bp as admin_printing_bp
    from admin.reports import bp as admin_reports_bp
    from admin.routes import bp as admin_bp
    from admin.staff_access import bp as staff_access_bp
    from counter.inspect import bp as inspect_bp
    from counter.panels import bp as counter_panels_bp
    from counter.routes import bp as counter_bp
    from display.routes import bp as display_bp
    from kiosk.routes import bp as kiosk_bp
    from kiosk.status import bp as status_bp

    for bp in (
        kiosk_bp,
        status_bp,
        counter_bp,
        counter_panels_bp,
        inspect_bp,
        display_bp,
        admin_bp,
        admin_printing_bp,
        admin_reports_bp,
        floor_plans_bp,
        staff_access_bp,
    ):
        app.register_blueprint(bp)
    register_admin_pages(app)  # imports, settings, floor view, owners, audit log
    error_pages.init_app(app)

    @app.get("/favicon.ico")
    def _favicon():
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml")

    realtime.init_app(app)
    # Several processes share one listening socket, so the requests of one Socket.IO session
    # would land on any of them: the long-polling transport (a request per message) cannot
    # work there, a websocket (one connection, one process) can. The pages are told to open
    # one directly (base.html).
    websocket_only = several_workers(app.config)
    app.jinja_env.globals["socket_websocket_only"] = websocket_only
    realtime.socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        transports=["websocket"] if websocket_only else ["polling", "websocket"],
        cors_allowed_origins=socket_origin_check(app),
        # Events run on the socket's own thread, one after another: a flood cannot turn into
        # thousands of threads each holding a DB connection (issue 7, finding 1).
        async_handlers=False,
        ping_interval=10,
    )
    realtime.serialize_bookkeeping()
    websocket_writes.install()
    sockets.register(realtime.socketio)
    return app


def socket_origin_check(app: Flask):
    """Socket.IO accepts a browser only from this server's own origin, PUBLIC_URL's, and the
    ones in CORS_ORIGINS; any other page is refused (it would ride on the staff cookie)."""
    extra = {o.rstrip("/") for o in app.config.get("CORS_ORIGINS") or []}
    if app.config.get("PUBLIC_URL"):
        from urllib.parse import urlsplit

        parts = urlsplit(app.config["PUBLIC_URL"])
        extra.add(f"{parts.scheme}://{parts.netloc}")

    def allowed(origin: str | None, environ: dict) -> bool:
        if not origin:
            return True  # not a browser page: nothing of anyone else's to ride on
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in extra

    return allowed
