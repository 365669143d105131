"""The app factory: config, database, Socket.IO, blueprints, CLI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, send_from_directory
from flask_wtf.csrf import CSRFProtect

from server import clock, error_pages, i18n, realtime, sockets
from server.config import default_instance_path, load_config
from server.db import Database
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
    clock.set_timezone(app.config.get("TIMEZONE", "Asia/Shanghai"))
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))

    db = Database(app.config["DATABASE_URL"])
    app.extensions["handover_db"] = db

    @app.teardown_appcontext
    def _remove_session(_exc):
        db.scoped.remove()

    i18n.init_app(app)
    # Gives every template csrf_token(); base.html puts it in a meta tag and ui.js's api()
    # sends it as X-CSRFToken. Enforcement is switched on with WTF_CSRF_CHECK_DEFAULT.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session, not one hour
    csrf.init_app(app)

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        return error_response(err)

    from admin.printing import bp as admin_printing_bp
    from admin.routes import bp as admin_bp
    from counter.panels import bp as counter_panels_bp
    from counter.routes import bp as counter_bp
    from display.routes import bp as display_bp
    from kiosk.routes import bp as kiosk_bp
    from kiosk.status import bp as status_bp

    for bp in (kiosk_bp, status_bp, counter_bp, display_bp, admin_bp, admin_printing_bp):
        app.register_blueprint(bp)
    app.register_blueprint(counter_panels_bp)
    error_pages.init_app(app)

    @app.get("/favicon.ico")
    def _favicon():
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml")

    realtime.socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        cors_allowed_origins=app.config.get("CORS_ORIGINS") or [],
        ping_interval=10,
    )
    sockets.register(realtime.socketio)
    return app
