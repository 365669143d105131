"""Import python-escpos without its import-time side effects.

escpos.capabilities calls logging.basicConfig() (which would install a root handler before the
app configures logging) and mkdtemp() on every import (a fresh /tmp directory per process, never
removed). We give it a private, reused cache directory and make basicConfig a no-op for the
duration of the import. Import escpos through this module only.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path


def _cache_dir() -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "handover-day" / "escpos"
    try:
        # 0700: escpos unpickles what it finds there, so nobody else may write to it.
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.stat().st_uid != os.getuid() or path.stat().st_mode & 0o022:
            return None
        return str(path)
    except OSError:
        return None


def _import_quietly() -> None:
    import sys

    if "escpos.capabilities" in sys.modules:
        return
    cache = _cache_dir()
    real_mkdtemp, real_basic_config = tempfile.mkdtemp, logging.basicConfig
    if cache:
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", cache)
        tempfile.mkdtemp = lambda *a, **k: os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"]  # type: ignore[assignment]
    logging.basicConfig = lambda *a, **k: None  # type: ignore[assignment]
    try:
        import escpos.capabilities  # noqa: F401
    finally:
        tempfile.mkdtemp, logging.basicConfig = real_mkdtemp, real_basic_config


_import_quietly()

from escpos import printer as printer  # noqa: E402
from escpos.capabilities import CAPABILITIES, get_profile  # noqa: E402
from escpos.exceptions import Error as EscposError  # noqa: E402

__all__ = ["CAPABILITIES", "EscposError", "get_profile", "printer"]
