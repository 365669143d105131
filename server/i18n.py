"""zh-CN by default, English a switch away (?lang=en, remembered in a cookie).

Message ids are English; the zh_CN catalogs (`translations/zh_CN/LC_MESSAGES/*.po`, maintained
with Babel's `pybabel extract/update`) are compiled in memory at start-up, so there is no build
step and no .mo file to forget.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).parent / "translations"
SUPPORTED = ("zh_CN", "en")
DEFAULT = "zh_CN"
LANG_COOKIE = "handover_lang"


def normalise(locale: str | None) -> str:
    if not locale:
        return DEFAULT
    loc = locale.replace("-", "_")
    if loc.lower().startswith("en"):
        return "en"
    if loc.lower().startswith("zh"):
        return "zh_CN"
    return DEFAULT


def catalog_files(locale: str) -> list[Path]:
    """Every .po of a locale (messages.po for server texts, ui.po for screens, ...)."""
    return sorted((TRANSLATIONS / locale / "LC_MESSAGES").glob("*.po"))


@cache
def translations(locale: str) -> gettext.NullTranslations:
    merged: gettext.NullTranslations | None = None
    for po in catalog_files(locale):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = gettext.GNUTranslations(buf)
        if merged is None:
            merged = part
        else:
            merged.add_fallback(part)
    return merged or gettext.NullTranslations()


def translate(message: str, locale: str, params: dict | None = None) -> str:
    text = translations(normalise(locale)).gettext(message)
    if params:
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            return message % params
    return text


def request_locale() -> str:
    from flask import current_app, has_request_context, request

    if has_request_context():
        chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
        if chosen:
            return normalise(chosen)
        return normalise(current_app.config.get("DEFAULT_LOCALE"))
    return DEFAULT


def gettext_(message: str, **params) -> str:
    return translate(message, request_locale(), params or None)


def init_app(app) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        lambda m: translate(m, request_locale()),
        lambda s, p, n: translate(s if n == 1 else p, request_locale()),
        newstyle=True,
    )

    @app.context_processor
    def _locale():
        return {
            "locale": request_locale(),
            "html_lang": "en" if request_locale() == "en" else "zh-CN",
        }

    @app.after_request
    def _remember_choice(response):
        from flask import request

        chosen = request.args.get("lang")
        if chosen:
            response.set_cookie(LANG_COOKIE, normalise(chosen), max_age=365 * 86400, samesite="Lax")
        return response
