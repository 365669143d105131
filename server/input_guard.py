"""Input no database or parser should ever see, refused with a clear 4xx instead of a 500:

- path ids beyond what a database integer holds (SQLite 2^63, PostgreSQL 2^31): no such row,
  so 404 (a bounded `int` URL converter);
- NUL characters and lone surrogates in text (PostgreSQL cannot store them): 422;
- JSON nested so deeply that parsing it would recurse without end: 422 (web.body).
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug import routing

from server.engine import Invalid

MAX_DB_INT = 2**31 - 1  # the smallest integer column we have (PostgreSQL INTEGER)
MAX_JSON_DEPTH = 32


class IntegerConverter(routing.IntegerConverter):
    """`<int:id>` that does not match ids no table can hold: the route answers 404. (It keeps
    werkzeug's class name: code that inspects converters by name still sees an integer.)"""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


def bad_text(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from "\ud800" in JSON
        return True
    return False


def check_text(value: Any, depth: int = 0) -> None:
    """Walks parsed input; raises Invalid on NUL/surrogates or excessive nesting."""
    if depth > MAX_JSON_DEPTH:
        raise Invalid("too_deep", "The request body is nested too deeply.")
    if isinstance(value, str):
        if bad_text(value):
            raise Invalid("bad_text", "Text must not contain NUL characters.")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(k, depth + 1)
            check_text(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            check_text(v, depth + 1)


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Counts bracket depth outside strings without parsing: cheap, and no recursion."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def init_app(app) -> None:
    app.url_map.converters["int"] = IntegerConverter

    @app.before_request
    def _refuse_unstorable_text():
        for value in (request.view_args or {}).values():
            if isinstance(value, str) and bad_text(value):
                raise Invalid("bad_text", "Text must not contain NUL characters.")
        for value in request.args.values():
            if bad_text(value):
                raise Invalid("bad_text", "Text must not contain NUL characters.")
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            for value in request.form.values():
                if bad_text(value):
                    raise Invalid("bad_text", "Text must not contain NUL characters.")
