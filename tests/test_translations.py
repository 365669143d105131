"""Every message a user can see has its zh-CN text (Chinese is the default everywhere)."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.extract import extract_from_dir

from server.engine.states import _STATE_WORDS
from server.i18n import translate

ROOT = Path(__file__).resolve().parent.parent
ERROR_CLASSES = {
    "DomainError",
    "NotFound",
    "Invalid",
    "Forbidden",
    "IllegalTransition",
    "Unauthorized",
    "TooManyRequests",
    "CsrfRefused",
}
FIRST_ARG_CALLS = {"gettext_", "_refuse", "_"}


def python_msgids() -> set[str]:
    found = set()
    for folder in ("server", "kiosk", "counter", "display", "admin"):
        for path in (ROOT / folder).rglob("*.py"):
            if "printing" in path.parts and path.name != "cli.py":
                continue  # receipts carry their own zh/en texts (pure, no gettext)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                index = 1 if name in ERROR_CLASSES else 0 if name in FIRST_ARG_CALLS else None
                if index is None or len(node.args) <= index:
                    continue
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def template_msgids() -> set[str]:
    method_map = [("**.html", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    return {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(ROOT / "templates"), method_map, options_map=options)
    }


def test_every_server_message_and_screen_text_has_chinese():
    msgids = python_msgids() | template_msgids() | set(_STATE_WORDS.values())
    assert len(msgids) > 40
    missing = sorted(m for m in msgids if translate(m, "zh_CN") == m)
    assert missing == []


def test_english_is_a_switch_away():
    assert translate("Unknown counter.", "en") == "Unknown counter."
    assert translate("Unknown counter.", "zh_CN") != "Unknown counter."
    assert (
        translate(
            "Already checked in today: your number is %(ticket)s.", "zh_CN", {"ticket": "A001"}
        ).count("A001")
        == 1
    )


def test_one_message_has_one_chinese_wording_across_catalogs():
    """Each area keeps its own catalog; a message id two areas share must read the same in
    both, or which wording a screen shows would depend on the order the catalogs load."""
    from babel.messages.pofile import read_po

    from server.i18n import catalog_files

    wordings: dict[str, set[str]] = {}
    for path in catalog_files("zh_CN"):
        with path.open("rb") as fh:
            for msg in read_po(fh):
                if msg.id and msg.string:
                    wordings.setdefault(msg.id, set()).add(msg.string)
    assert {k: v for k, v in wordings.items() if len(v) > 1} == {}
