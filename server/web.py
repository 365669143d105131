"""What every view shares: the request's DB session, the project, JSON bodies, error answers."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.engine import DomainError, Invalid, NotFound
from server.i18n import request_locale, translate
from server.models import Project

M = TypeVar("M", bound=BaseModel)


def db_session() -> Session:
    return current_app.extensions["handover_db"].scoped()


def project_id() -> int:
    """One server runs one project's handover; HANDOVER_PROJECT names it when a DB holds several."""
    cached = current_app.extensions.get("handover_project_id")
    if cached is not None:
        return cached
    code = current_app.config.get("PROJECT")
    stmt = select(Project.id).order_by(Project.id)
    if code:
        stmt = stmt.where(Project.code == code)
    pid = db_session().scalar(stmt.limit(1))
    if pid is None:
        raise NotFound("no_project", "No project is set up yet. Run: handover demo")
    current_app.extensions["handover_project_id"] = pid
    return pid


def error_body(err: DomainError, locale: str | None = None) -> dict[str, Any]:
    locale = locale or request_locale()
    # Word-like parameters ("being served") are msgids too; names and numbers pass unchanged.
    params = {k: translate(v, locale) if isinstance(v, str) else v for k, v in err.params.items()}
    return {
        "error": {
            "code": err.code,
            "message": translate(err.message, locale, params or None),
            **({"details": _public_params(err.params)} if err.params else {}),
        }
    }


def _public_params(params: dict) -> dict:
    return {k: v for k, v in params.items() if isinstance(v, str | int | float)}


def error_response(err: DomainError):
    return jsonify(error_body(err)), err.status


def body(model: type[M]) -> M:
    """Parses the JSON body; anything malformed is a 422 with a readable message."""
    from server.input_guard import check_text, json_too_deep

    if json_too_deep(request.get_data(cache=True)):
        raise Invalid("too_deep", "The request body is nested too deeply.")
    data = request.get_json(silent=True)
    if data is None:
        data = {} if not request.data else None
    if not isinstance(data, dict):
        raise Invalid("bad_json", "The request body must be a JSON object.")
    check_text(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise Invalid("bad_field", "Invalid value for %(field)s.", field=field) from None


def ok(data: Any, status: int = 200):
    return jsonify(data), status
