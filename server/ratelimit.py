"""Per-client rate limits, so that no one client (an owner's phone, a stuck kiosk script, an
attacker on the venue LAN) can slow the floor down for everyone else.

HTTP routes: Flask-Limiter with a default limit on every route (stricter for anonymous
callers) and tighter ones on login and pairing. Socket.IO events do not pass through Flask's
routing, so they use `limits` (the library Flask-Limiter is built on) with the same storage:
in memory by default, Redis when `HANDOVER_RATELIMIT_STORAGE_URI=redis://...` (several
server processes then share the counts).

A client is: a staff login (its session), a paired device, else the remote address.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from flask import current_app, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many
from limits.storage import MemoryStorage

from server.engine import DomainError
from server.web import error_body

EXTENSION = "handover_limiter"

LIMIT_DEFAULTS = {
    # Every route, per client. A counter screen makes a request or two per press; a kiosk a
    # check-in a minute; 20 a second is far above any real use and far below a flood.
    "RATELIMIT_STAFF": "20 per second;600 per minute",
    "RATELIMIT_ANONYMOUS": "10 per second;300 per minute",
    # Guessing: every attempt counts per client, failures per account name.
    "RATELIMIT_LOGIN_CLIENT": "20 per minute;200 per hour",
    "RATELIMIT_LOGIN_ACCOUNT": "10 per 15 minutes",
    "RATELIMIT_PAIR_CLIENT": "20 per minute;200 per hour",
    # Socket.IO, per socket and per client: connects redo the snapshot, resync too.
    "RATELIMIT_SOCKET_CONNECT": "12 per minute",
    "RATELIMIT_SOCKET_EVENT": "2 per second;30 per minute",
    "RATELIMIT_SOCKET_CLIENT_EVENT": "10 per second;120 per minute",
    # Far beyond any screen: the socket is flooding and is disconnected.
    "RATELIMIT_SOCKET_ABUSE": "20 per second;200 per minute",
    "RATELIMIT_STORAGE_URI": "paced-memory://",
    "RATELIMIT_STRATEGY": "moving-window",
    # X-RateLimit-* on every answer cost a pass over the client's moving window each time and
    # no screen reads them; a refused request still says when to come back (Retry-After).
    "RATELIMIT_HEADERS_ENABLED": False,
}


class PacedMemoryStorage(MemoryStorage):
    """`limits`' memory storage, pruning expired counts once a second instead of 10 ms after
    any hit on a new timer thread: under load that was a thread started every 10 ms and a pass
    over every client's counts (500 phones: 500 keys), a cost every request shared. A count is
    never decided by the pruning (each check reads its entries' own times); pruning only frees
    memory, so doing it in whichever request comes first after a second is enough."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["paced-memory"]
    PRUNE_EVERY = 1.0  # seconds

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._pruned_at = time.monotonic()
        self._pruning = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private scheduler
        if time.monotonic() - self._pruned_at < self.PRUNE_EVERY:
            return
        if self._pruning.acquire(blocking=False):
            try:
                self._pruned_at = time.monotonic()
                self._MemoryStorage__expire_events()
            finally:
                self._pruning.release()


class TooManyRequests(DomainError):
    status = 429


def client_key() -> str:
    """Who is asking, for counting: the login, the device, else the address."""
    from server.auth import current_credential

    cred = current_credential()
    if cred is not None:
        return cred
    token = (request.view_args or {}).get("token")
    if request.blueprint == "status" and isinstance(token, str):
        # Owners' phones may share one carrier address: count per ticket, not per address.
        return f"status:{token[:100]}"
    return f"ip:{request.remote_addr or '-'}"


def _default_limit() -> str:
    from server.auth import current_credential

    cfg = current_app.config
    return cfg["RATELIMIT_STAFF"] if current_credential() else cfg["RATELIMIT_ANONYMOUS"]


# Counted by their own, stricter limits (auth.authenticate, auth.pair_device).
OWN_LIMITS = frozenset({"admin.login", "admin.api_login", "admin.pair"})


def _exempt() -> bool:
    endpoint = request.endpoint or ""
    return (
        endpoint == "static"
        or endpoint.endswith(".static")
        or endpoint == "_favicon"
        or (request.method == "POST" and endpoint in OWN_LIMITS)
        or (endpoint == "admin.pair" and "code" in (request.view_args or {}))
    )


def too_many() -> TooManyRequests:
    return TooManyRequests("rate_limited", "Too many requests. Please wait a moment and try again.")


def init_app(app) -> Limiter:
    for key, value in LIMIT_DEFAULTS.items():
        app.config.setdefault(key, value)
    limiter = Limiter(
        client_key,
        app=app,
        default_limits=[_default_limit],
        default_limits_exempt_when=_exempt,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy=app.config["RATELIMIT_STRATEGY"],
        key_prefix="handover",
    )
    app.extensions[EXTENSION] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        response = jsonify(error_body(too_many()))
        breached = limiter.current_limit
        wait = breached.reset_at - time.time() if breached is not None else 1
        response.headers["Retry-After"] = str(max(1, int(wait)))
        return response, 429

    return limiter


def hit(name: str, *keys: str, app=None) -> bool:
    """Count one event against the configured limit `name` for each key; False when any of
    them is over (everything is still counted, so a flood stays refused)."""
    app = app or current_app
    if not app.config.get("RATELIMIT_ENABLED", True):
        return True
    limiter: Limiter = app.extensions[EXTENSION]
    allowed = True
    for item in parse_many(app.config[name]):
        for key in keys:
            if not limiter.limiter.hit(item, "handover", name, key):
                allowed = False
    return allowed


def test(name: str, *keys: str, app=None) -> bool:
    """Would one more event be allowed? (does not count it)"""
    app = app or current_app
    if not app.config.get("RATELIMIT_ENABLED", True):
        return True
    limiter: Limiter = app.extensions[EXTENSION]
    return all(
        limiter.limiter.test(item, "handover", name, key)
        for item in parse_many(app.config[name])
        for key in keys
    )


def too_many_logins() -> TooManyRequests:
    return TooManyRequests(
        "too_many_attempts", "Too many attempts. Please wait a few minutes and try again."
    )
