"""The board's voice: prerecorded clips, joined in the browser.

A call is spoken as a list of short clips ("请" "A" "零" "二" "三" "号" "到" "3号窗口" "办理"
"签约"), made before the day by `python -m display.make_voice` and committed, so a board
needs no speech engine and no network. `manifest.json` maps each spoken text to its file; the
board builds the list (display.js `plan`) and plays it gapless with Web Audio.

This module holds the words (used by the generator and by the tests) and reads the manifest.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

VOICE_DIR = Path(__file__).parent / "static" / "voice"
MANIFEST = VOICE_DIR / "manifest.json"

ZH_DIGITS = "零一二三四五六七八九"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_NUMBER = 60  # counter numbers read as numbers ("十二号窗口"), not digit by digit

# Fixed phrases: id -> text. The ids name the files; the texts are the manifest keys.
ZH_PHRASES = {
    "qing": "请",
    "hao": "号",
    "dao": "到",
    "chuangkou": "号窗口",
    "banli": "办理",
    "recall": "再次呼叫",
}
EN_PHRASES = {
    "number": "Number",
    "go": "please go to",
    "counter": "counter",
    "for": "for",
    "recall": "Calling again",
}


def zh_number(n: int) -> str:
    """1..60 as spoken Chinese: 3 -> 三, 10 -> 十, 12 -> 十二, 20 -> 二十, 45 -> 四十五."""
    if not 0 < n <= MAX_NUMBER:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else ZH_DIGITS[tens] + "十")
    return head + (ZH_DIGITS[ones] if ones else "")


@cache
def _manifest_cached(mtime: float) -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def load_manifest() -> dict:
    if not MANIFEST.exists():
        return {"zh": {}, "en": {}, "chime": None}
    return _manifest_cached(MANIFEST.stat().st_mtime)


def voice_manifest() -> dict:
    """What the board page needs: text -> file per language, and the chime."""
    m = load_manifest()
    return {"zh": m.get("zh", {}), "en": m.get("en", {}), "chime": m.get("chime")}
