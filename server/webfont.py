"""The web font every screen uses, so Chinese renders on a kiosk or TV box with no CJK font.

Two faces of Noto Sans SC (SIL OFL 1.1, from the pylopdf-fonts-zh-cn dependency), cut down with
fontTools' subsetter:

- `static/fonts/hd-sans-sc.woff2`, committed: every character of the templates, scripts,
  catalogs and Python sources (messages, demo data) plus the 3,755 common hanzi of GB2312
  level 1. `handover webfont` rebuilds it (needs `brotli` for WOFF2: a build-time tool only).
- the "names" face, built on demand from the database: characters of owners', staff, project,
  building, step and counter names that the static face lacks (rare surname characters are the
  usual case). Cached in the instance folder under the hash of its characters; WOFF (zlib), so
  the server needs no brotli.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = Path(__file__).resolve().parent / "static" / "fonts"
STATIC_FONT = FONT_DIR / "hd-sans-sc.woff2"
STATIC_CHARS = FONT_DIR / "hd-sans-sc.chars.txt"
SOURCE_DIRS = ("templates", "server", "kiosk", "counter", "display", "admin")


def source_font_path() -> Path:
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"


def gb2312_level1() -> str:
    """The 3,755 most common hanzi (GB2312 rows 16-55), in pinyin order."""
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(out)


def _base_chars() -> set[str]:
    """ASCII, Latin-1 and the punctuation Chinese text uses (full-width forms included)."""
    ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203B), (0x3000, 0x3011)]
    ranges += [(0xFF01, 0xFF5E), (0x2190, 0x2193), (0x00D7, 0x00D7), (0x2713, 0x2713)]
    return {chr(c) for lo, hi in ranges for c in range(lo, hi + 1)}


def source_chars(root: Path = ROOT) -> set[str]:
    chars: set[str] = set()
    for folder in SOURCE_DIRS:
        base = root / folder
        for path in base.rglob("*"):
            if path.suffix in {".html", ".js", ".po", ".py"} and "vendor" not in path.parts:
                chars.update(c for c in path.read_text("utf-8", errors="ignore") if ord(c) > 0x7F)
    return chars


def static_charset(root: Path = ROOT) -> str:
    chars = _base_chars() | set(gb2312_level1()) | source_chars(root)
    return "".join(sorted(c for c in chars if c.isprintable()))


def subset(chars: Iterable[str], *, flavor: str) -> bytes:
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    options = ft_subset.Options()
    options.flavor = flavor
    options.layout_features = ["*"]  # keep vertical/proportional forms the browser may ask for
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(source_font_path())
    sub = ft_subset.Subsetter(options)
    sub.populate(text="".join(chars))
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = flavor
    font.save(buf)
    return buf.getvalue()


def build_static(root: Path = ROOT) -> tuple[int, int]:
    """Rebuilds the committed face; returns (characters, bytes)."""
    chars = static_charset(root)
    data = subset(chars, flavor="woff2")
    STATIC_FONT.write_bytes(data)
    STATIC_CHARS.write_text(chars, "utf-8")
    return len(chars), len(data)


_lock = threading.Lock()
_STATIC_SET: frozenset[str] | None = None


def _static_set() -> frozenset[str]:
    global _STATIC_SET
    if _STATIC_SET is None:
        _STATIC_SET = frozenset(STATIC_CHARS.read_text("utf-8"))
    return _STATIC_SET


def missing_chars(texts: Iterable[str | None]) -> str:
    have = _static_set()
    return "".join(sorted({c for t in texts if t for c in t if ord(c) > 0x7F} - have))


def names_font(instance_path: Path, chars: str) -> tuple[bytes, str] | None:
    """(WOFF bytes, etag) for `chars`, built once and cached in the instance folder."""
    if not chars:
        return None
    etag = hashlib.sha256(chars.encode()).hexdigest()[:20]
    cache = Path(instance_path) / "fonts" / f"names-{etag}.woff"
    with _lock:  # one build at a time: a subset of the 8 MB source takes a second or two
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_bytes(subset(chars, flavor="woff"))
            tmp.replace(cache)
    return cache.read_bytes(), etag
