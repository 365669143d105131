"""Make the board's voice clips before the day: `python -m display.make_voice`.

Needs Debian's espeak-ng, sox and opus-tools (apt-get install espeak-ng sox opus-tools) on the
machine that makes them, never on the venue's: the clips (mono Ogg/Opus, ~2 KB each) are
committed under display/static/voice/ with manifest.json (spoken text -> file).

Made: the fixed phrases, digits 零..九 and letters A..Z (tickets are read one by one),
numbers 1..60 (counter numbers: "十二号窗口"), a chime, and the names of steps and counters
that are not "N号窗口" (验房员3组). By default the demo's plan; `--database-url URL` adds the
steps and counters of the projects in that database (run it once the plan is configured).
Names without a clip are read by the browser's own Chinese voice if it has a good one, else
by the number in the name (see display.js).

Why espeak-ng: it is the only Mandarin TTS in Debian (festival, flite, pico and the mbrola
voices in Debian have no Mandarin), and the neural ones on PyPI (piper, kokoro, paddlespeech)
load their models from a hub at run time. espeak-ng's Mandarin is robotic but clear, tones
included, and small clips joined without gaps sound like any hall's caller.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .voice import (
    EN_PHRASES,
    LETTERS,
    MANIFEST,
    MAX_NUMBER,
    VOICE_DIR,
    ZH_DIGITS,
    ZH_PHRASES,
    zh_number,
)

BITRATE_KBPS = 16  # speech, mono: clear on a hall's speakers, ~2 KB per clip
WINDOW_RE = re.compile(r"^\d+号窗口$")
COUNTER_EN_RE = re.compile(r"^Counter \d+$")


def _demo_names() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(zh, en) names of the demo's steps and of its counters that are not plain windows."""
    from server.demo import STEPS

    steps = [(zh, en) for _code, zh, en, _m in STEPS]
    counters = [(f"验房员{n}组", f"Inspection team {n}") for n in range(1, 9)]
    return steps, counters


def _db_names(url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from server.models import Counter, Step

    engine = create_engine(url)
    try:
        with Session(engine) as s:
            steps = [(st.name_zh, st.name_en) for st in s.scalars(select(Step))]
            counters = [(c.name_zh, c.name_en) for c in s.scalars(select(Counter))]
    finally:
        engine.dispose()
    return steps, counters


def phrases(
    steps: list[tuple[str, str]], counters: list[tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """lang -> {spoken text: file stem}."""
    zh: dict[str, str] = {}
    en: dict[str, str] = {}
    for key, text in ZH_PHRASES.items():
        zh[text] = f"p-{key}"
    for key, text in EN_PHRASES.items():
        en[text] = f"p-{key}"
    for d, text in enumerate(ZH_DIGITS):
        zh[text] = f"d{d}"
        en[str(d)] = f"d{d}"
    for letter in LETTERS:
        zh[letter] = f"l-{letter}"
        en[letter] = f"l-{letter}"
    for n in range(1, MAX_NUMBER + 1):
        zh.setdefault(zh_number(n), f"n{n}")
        en.setdefault(str(n), f"n{n}")
    for name_zh, name_en in [*steps, *counters]:
        if name_zh and not WINDOW_RE.match(name_zh):
            zh.setdefault(name_zh, "x-" + hashlib.sha1(name_zh.encode()).hexdigest()[:10])
        if name_en and not COUNTER_EN_RE.match(name_en):
            en.setdefault(name_en, "x-" + hashlib.sha1(name_en.encode()).hexdigest()[:10])
    return {"zh": zh, "en": en}


def _speak_text(lang: str, text: str) -> str:
    # espeak-ng's Mandarin says a lone Latin letter the English way ("ei", "bi"), as halls do.
    return text


def _make_clip(lang: str, text: str, out: Path, tmp: Path) -> None:
    raw = tmp / f"{out.stem}-{lang}-raw.wav"
    clean = tmp / f"{out.stem}-{lang}.wav"
    voice = "cmn" if lang == "zh" else "en-us"
    speed = "150" if lang == "zh" else "155"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", speed, "-w", str(raw), _speak_text(lang, text)],
        check=True,
        capture_output=True,
    )
    # Trim espeak's leading/trailing silence, leave a short breath, normalise, 24 kHz mono.
    subprocess.run(
        [
            *("sox", "-D", str(raw), "-r", "24000", "-c", "1", "-b", "16", str(clean)),
            *("silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%"),
            *("reverse", "pad", "0.02", "0.06", "gain", "-n", "-1"),
        ],
        check=True,
        capture_output=True,
    )
    _encode(clean, out)


def _encode(wav: Path, out: Path) -> None:
    # A fixed serial number: the same input makes the same file (no churn in git).
    subprocess.run(
        [
            *("opusenc", "--quiet", "--bitrate", str(BITRATE_KBPS), "--serial", "1"),
            *("--comment", "title=handover-voice", str(wav), str(out)),
        ],
        check=True,
        capture_output=True,
    )


def _make_chime(out: Path, tmp: Path) -> None:
    """Two soft tones, high then low (ding-dong), as halls use before a call."""
    wav = tmp / "chime.wav"
    subprocess.run(
        [
            *("sox", "-D", "-n", "-r", "24000", "-c", "1", "-b", "16", str(wav)),
            *("synth", "0.45", "sine", "988", "fade", "q", "0.01", "0.45", "0.35", ":"),
            *("synth", "0.7", "sine", "784", "fade", "q", "0.01", "0.7", "0.6", "gain", "-n", "-3"),
        ],
        check=True,
        capture_output=True,
    )
    _encode(wav, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", help="also make clips for this database's steps/counters")
    ap.add_argument("--force", action="store_true", help="remake clips that exist")
    args = ap.parse_args(argv)
    missing = [t for t in ("espeak-ng", "sox", "opusenc") if shutil.which(t) is None]
    if missing:
        print(f"需要 / needs: apt-get install espeak-ng sox opus-tools  (missing: {missing})")
        return 2
    steps, counters = _demo_names()
    if args.database_url:
        more_steps, more_counters = _db_names(args.database_url)
        steps += more_steps
        counters += more_counters
    table = phrases(steps, counters)
    jobs = []
    manifest: dict = {"codec": "ogg/opus", "tts": "espeak-ng (cmn, en-us)", "chime": "chime.ogg"}
    for lang, entries in table.items():
        (VOICE_DIR / lang).mkdir(parents=True, exist_ok=True)
        manifest[lang] = {}
        for text, stem in sorted(entries.items(), key=lambda kv: kv[1]):
            rel = f"{lang}/{stem}.ogg"
            manifest[lang][text] = rel
            if args.force or not (VOICE_DIR / rel).exists():
                jobs.append((lang, text, VOICE_DIR / rel))
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        if args.force or not (VOICE_DIR / "chime.ogg").exists():
            _make_chime(VOICE_DIR / "chime.ogg", tmp)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda j: _make_clip(j[0], j[1], j[2], tmp), jobs))
    MANIFEST.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    total = sum(p.stat().st_size for p in VOICE_DIR.rglob("*.ogg"))
    print(f"{len(jobs)} clips made; {total / 1024:.0f} KB in {VOICE_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
