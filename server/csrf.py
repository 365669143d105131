"""CSRF: every state-changing browser request carries the session's token or is refused.

Flask-WTF's CSRFProtect makes and checks the tokens (forms send `csrf_token`, `UI.api()` the
`X-CSRFToken` header). We call its check ourselves instead of WTF_CSRF_CHECK_DEFAULT for one
rule it cannot express per route: a request that authenticates with the X-Device-Token
header and carries no cookie is exempt. No other page can make a browser send that header
(it is not a "simple" header, and we answer no CORS preflight), and without cookies there is
no ambient login to abuse. See docs/api.md, "Security rules".
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from server.auth import DEVICE_COOKIE, DEVICE_HEADER
from server.engine import DomainError
from server.i18n import gettext_
from server.web import error_body

_MESSAGE = "This page has expired or the request came from another site. Reload the page."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfRefused(DomainError):
    status = 400


def _exempt() -> bool:
    if request.method in SAFE_METHODS:
        return True
    has_cookie = request.cookies.get(
        current_app.config.get("SESSION_COOKIE_NAME", "session")
    ) or request.cookies.get(DEVICE_COOKIE)
    return bool(request.headers.get(DEVICE_HEADER)) and not has_cookie


def init_app(app, csrf: CSRFProtect) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, with the device-token rule
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session, not one hour

    @app.before_request
    def _check_csrf():
        if not app.config.get("WTF_CSRF_ENABLED", True) or _exempt():
            return None
        csrf.protect()
        return None

    @app.errorhandler(CSRFError)
    def _refused(_exc: CSRFError):
        if request.endpoint == "admin.login":
            # The login form left open overnight: show it again (with a fresh token), in words.
            message = gettext_(_MESSAGE)
            return render_template("admin/login.html", error=message), 400
        err = CsrfRefused(
            "csrf_failed",
            "This page has expired or the request came from another site. Reload the page.",
        )
        return jsonify(error_body(err)), 400
