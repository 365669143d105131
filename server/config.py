"""Configuration: defaults, then the instance file, then HANDOVER_* environment variables.

Later sources win. The secret key is never a constant: it is generated on first run and kept
in the instance folder so sessions survive a restart.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: sqlite:///<instance>/handover.db
    "DEFAULT_LOCALE": "zh_CN",
    "TIMEZONE": "Asia/Shanghai",  # the venue's; times are stored and shown in it
    "MAX_RECALLS": 2,  # recalls before a no-show is final
    "NO_SHOW_POLICY": "requeue",  # "requeue" (back to the queue end) or "out" (leaves the queue)
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "THREADS": 200,
    # Serving processes. More than one needs SOCKETIO_MESSAGE_QUEUE (redis://...): a change
    # made in one process must reach the screens connected to the others.
    "WORKERS": 1,
    "SOCKETIO_MESSAGE_QUEUE": None,  # e.g. redis://127.0.0.1:6379/0 for several processes
    "PUBLIC_URL": None,  # base of the status-page QR; default: the request's host
    "PRINT_WORKER": True,  # send print jobs from the server
    "PRINT_PROCESS": True,  # ... from a process beside it (POSIX), not a thread inside it
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_HOURS": 14,  # a staff login lasts one working day (server-side, see auth.py)
    # ... from the login, server-side: re-signing and re-sending the cookie with every answer
    # (Flask's default) moved only the cookie's own expiry, at a cost on every request.
    "SESSION_REFRESH_EACH_REQUEST": False,
    "CORS_ORIGINS": [],  # other origins whose pages may open a Socket.IO connection
    "LOGIN_LOCK_AFTER": 5,  # wrong passwords in a row before the account is locked...
    "LOGIN_LOCK_MINUTES": 5,  # ...for this long
    # In this process (ratelimit.PacedMemoryStorage); redis://host:6379/1 to share counts
    # across processes.
    "RATELIMIT_STORAGE_URI": "paced-memory://",
    "SESSION_COOKIE_HTTPONLY": True,
    "JSON_AS_ASCII": False,
}

INSTANCE_FILE = "handover.toml"
SECRET_FILE = "secret_key"


def default_instance_path() -> Path:
    env = os.environ.get("HANDOVER_INSTANCE_PATH")
    if env:
        return Path(env).resolve()
    return (Path.cwd() / "instance").resolve()


def _coerce(raw: str, current: Any) -> Any:
    """Environment values are strings; give them the type of the default they replace."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if raw[:1] in "[{":
        return json.loads(raw)
    return raw


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    file = instance_path / INSTANCE_FILE
    if file.exists():
        with file.open("rb") as fh:
            for key, value in tomllib.load(fh).items():
                config[key.upper()] = value
    for key, raw in os.environ.items():
        if key.startswith("HANDOVER_") and key != "HANDOVER_INSTANCE_PATH":
            name = key.removeprefix("HANDOVER_")
            config[name] = _coerce(raw, config.get(name))
    if overrides:
        config.update(overrides)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'handover.db'}"
    _share_limits_between_workers(config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret_key(instance_path)
    return config


def several_workers(config: dict[str, Any]) -> bool:
    return int(config.get("WORKERS") or 1) > 1


def _share_limits_between_workers(config: dict[str, Any]) -> None:
    """Counted in each process, a client spread over N processes would get N times its
    limit (login guesses included): with several workers the counts go to the Redis server
    they already share, unless another storage was chosen."""
    queue = str(config.get("SOCKETIO_MESSAGE_QUEUE") or "")
    if (
        several_workers(config)
        and config.get("RATELIMIT_STORAGE_URI") == DEFAULTS["RATELIMIT_STORAGE_URI"]
        and queue.startswith(("redis://", "rediss://"))
    ):
        config["RATELIMIT_STORAGE_URI"] = queue


def instance_secret_key(instance_path: Path) -> str:
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / SECRET_FILE
    if not path.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip()
