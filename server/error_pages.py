"""Browsers get an error page in their language (zh-CN by default); the JSON API keeps its
JSON answers ({"error": {"code", "message"}}). A request is a browser's when it is not under
/api/ and asks for HTML."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from server.engine import DomainError
from server.i18n import request_locale, translate
from server.web import error_body

log = logging.getLogger(__name__)

TITLES = {
    401: "Please log in first.",
    403: "You are not allowed to do this.",
    404: "This page does not exist.",
    413: "The file is too large.",
    500: "Something went wrong. Please try again.",
}


def wants_html(default: bool = False) -> bool:
    """`default`: the answer when the client states no preference (no Accept header)."""
    if request.path.startswith("/api/") or request.path.startswith("/socket.io"):
        return False
    accept = request.accept_mimetypes
    if not accept or accept.best == "*/*":
        return default
    return accept.best_match(["application/json", "text/html"]) == "text/html"


def _page(status: int, message: str):
    locale = request_locale()
    title = translate(TITLES.get(status, TITLES[500]), locale)
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        answer = error_body(err)
        if wants_html():
            return _page(err.status, answer["error"]["message"])
        return jsonify(answer), err.status

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        # An unknown page address outside /api/ is a browser's, whatever it accepts.
        if wants_html(default=True):
            return _page(status, "")
        message = translate(TITLES.get(status, err.name or "Error"), request_locale())
        return jsonify({"error": {"code": f"http_{status}", "message": message}}), status

    @app.errorhandler(Exception)
    def _crash(err: Exception):
        if isinstance(err, HTTPException):
            return _http(err)
        log.exception("unhandled error on %s", request.path)
        if wants_html(default=True):
            return _page(500, "")
        message = translate(TITLES[500], request_locale())
        return jsonify({"error": {"code": "server_error", "message": message}}), 500
