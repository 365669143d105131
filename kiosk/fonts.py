"""The web font's second face: characters the committed subset lacks (see server.webfont)."""

from __future__ import annotations

import time

from flask import Response, current_app, request

from server import webfont
from server.services import fontchars
from server.web import db_session

from .routes import bp

_TTL_SECONDS = 60  # names imported during the day reach the screens within a minute


def _extra_chars() -> str:
    cache = current_app.extensions.setdefault("handover_font_extra", {})
    if cache and time.monotonic() - cache["at"] < _TTL_SECONDS:
        return cache["chars"]
    chars = fontchars.extra_chars(db_session())
    cache.update(chars=chars, at=time.monotonic())
    return chars


@bp.get("/fonts/extra.woff")
def extra_font():
    """Public (the login and status pages need it too). 204 when nothing is missing: the
    browser then simply has no glyphs from this face and never asks for them."""
    built = webfont.names_font(current_app.instance_path, _extra_chars())
    if built is None:
        return Response(status=204, headers={"Cache-Control": "no-cache"})
    data, etag = built
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(data, mimetype="font/woff")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # revalidate: names change with imports
    return response
