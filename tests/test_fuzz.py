"""Bad input never gives a server error: a schema-aware fuzz of every JSON endpoint and socket
event, on SQLite and PostgreSQL (issue 7, finding 5).

Routes are read from the app's URL map, so endpoints other work adds are fuzzed too; a JSON
body is generated from the pydantic model its view parses (`body(Model)`), mixed with what
broke before: ids of 2^63 and more, NUL characters, lone surrogates, JSON nested 100,000 deep.
The example count is bounded so the whole test stays in seconds.
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import datetime, time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from server import clock
from server.realtime import socketio
from tests.conftest import CsrfClient, build_venue, login

HUGE = [2**31, 2**31 - 1, 2**32, 2**63 - 1, 2**63, 2**64, 10**30]
NASTY_TEXT = ["\x00", "a\x00b", "\ud800", "", " ", "%00", "../../etc/passwd", "窗口" * 300]

nasty_ints = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from(HUGE))
nasty_text = st.one_of(st.text(max_size=40), st.sampled_from(NASTY_TEXT))
scalars = st.one_of(st.none(), st.booleans(), nasty_ints, st.floats(), nasty_text)
any_json = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def from_schema(schema: dict, defs: dict) -> st.SearchStrategy:
    """Values that fit the JSON schema pydantic gives, often just outside it."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        size = schema.get("maxLength", 60)
        fitting = (
            st.from_regex(schema["pattern"], fullmatch=True)
            if "pattern" in schema
            else st.text(min_size=schema.get("minLength", 0), max_size=min(size, 2_000))
        )
        if size > 2_000:  # e.g. a signature image as a data URL: too long for hypothesis to draw
            return st.one_of(fitting, nasty_text)
        return st.one_of(fitting, nasty_text, st.text(min_size=size + 1, max_size=size + 5))
    if kind == "integer":
        return nasty_ints
    if kind == "boolean":
        return st.one_of(st.booleans(), scalars)
    if kind == "null":
        return st.none()
    return any_json


def body_strategy(model: type[BaseModel] | None) -> st.SearchStrategy:
    deep = st.integers(min_value=1, max_value=100_000).map(lambda n: "[" * n + "]" * n)
    raw = st.one_of(deep, st.just('{"a":' * 50_000 + "1" + "}" * 50_000), st.text(max_size=30))
    if model is None:
        return st.one_of(any_json.map(json.dumps), raw)
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    fields = {k: from_schema(v, defs) for k, v in schema.get("properties", {}).items()}
    required = set(schema.get("required", ()))
    fitting = st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )
    return st.one_of(fitting.map(json.dumps), any_json.map(json.dumps), raw)


def body_model(view) -> type[BaseModel] | None:
    """The pydantic model a view parses with `body(Model)`, if any."""
    view = inspect.unwrap(view)
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return None
    match = re.search(r"\bbody\((\w+)\)", source)
    return view.__globals__.get(match.group(1)) if match else None


def path_values(converter: str) -> st.SearchStrategy:
    if converter == "IntegerConverter":
        return st.one_of(st.integers(min_value=0, max_value=2**80), st.sampled_from(HUGE))
    return st.one_of(nasty_text.filter(lambda t: "/" not in t and t), st.just("call-next"))


def json_routes(app) -> list[tuple[str, str, dict, type[BaseModel] | None]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static") or "socket.io" in rule.rule:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            routes.append((method, rule.rule, rule._converters, body_model(view)))
    return routes


def fill(rule: str, converters: dict, data: st.DataObject) -> str:
    path = rule
    for name, conv in converters.items():
        value = data.draw(path_values(type(conv).__name__), label=name)
        # As a browser would send it: percent-encoded UTF-8 (a lone surrogate as its bytes).
        encoded = quote(str(value).encode("utf-8", "surrogatepass"), safe="")
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", lambda _m, e=encoded: e, path)
    return path


@pytest.fixture
def fuzz_app(db_url, tmp_path):
    from server.app import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": db_url,
            "TESTING": True,
            "PRINT_WORKER": False,
            # Counting is not what is fuzzed here: let every request reach its view.
            "RATELIMIT_ENABLED": False,
            "LOGIN_LOCK_AFTER": 10**6,
        }
    )
    app.test_client_class = CsrfClient
    db = app.extensions["handover_db"]
    db.create_all()
    with db.session() as s:
        build_venue(s, units=4, day=datetime.combine(clock.today(), time(9, 0)))
    yield app
    db.dispose()


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def test_no_json_endpoint_gives_a_server_error(fuzz_app):
    app = fuzz_app
    routes = json_routes(app)
    assert len(routes) > 15
    admin = app.test_client()
    login(admin, "admin")
    anonymous = app.test_client()
    errors: list[str] = []

    @FUZZ
    @given(route=st.sampled_from(routes), data=st.data(), who=st.booleans())
    def one_request(route, data, who):
        method, rule, converters, model = route
        path = fill(rule, converters, data)
        payload = data.draw(body_strategy(model), label="body")
        # The admin must stay logged in to reach the guarded views: logout is fuzzed anonymously.
        client = admin if who and "logout" not in rule else anonymous
        try:
            r = client.open(
                path,
                method=method,
                data=payload.encode("utf-8", "surrogatepass"),
                content_type="application/json",
            )
        except Exception as exc:  # TESTING propagates what would be a 500
            errors.append(f"{method} {path} {payload[:80]!r}: {type(exc).__name__}: {exc}")
            return
        if r.status_code >= 500:
            errors.append(f"{method} {path} {payload[:80]!r}: {r.status_code}")

    one_request()
    assert errors == [], "\n".join(errors[:10])
    # The admin is still logged in (nothing fuzzed threw it out) and the app still answers.
    assert admin.get("/api/queue").status_code == 200


def test_no_socket_event_gives_a_server_error(fuzz_app):
    app = fuzz_app
    staff = app.test_client()
    login(staff, "supervisor")
    errors: list[str] = []
    views = st.sampled_from(["status", "display", "counter", "kiosk", "supervisor", "", "x"])
    auth = st.one_of(
        # The two fields that reach the database, often just past what it holds.
        st.fixed_dictionaries(
            {"view": st.just("counter"), "counter_id": st.one_of(st.sampled_from(HUGE), scalars)}
        ),
        st.fixed_dictionaries({"view": st.just("status"), "token": nasty_text}),
        st.fixed_dictionaries(
            {"view": st.one_of(views, scalars)},
            optional={"counter_id": st.one_of(nasty_ints, scalars), "token": scalars},
        ),
        any_json,
    )

    # The Socket.IO protocol allows only an object as connect auth (a bare number there is
    # not even parsed as a packet); events may carry anything.
    connect_auths = st.one_of(
        auth.filter(lambda a: isinstance(a, dict)),
        st.dictionaries(nasty_text, any_json, max_size=4),
    )

    @settings(FUZZ, max_examples=50)
    @given(connect_auth=connect_auths, resync=st.lists(auth, max_size=3))
    def one_socket(connect_auth, resync):
        try:
            sc = socketio.test_client(app, flask_test_client=staff, auth=connect_auth)
            if sc.is_connected():
                for data in resync:
                    answer = sc.emit("resync", data, callback=True)
                    assert isinstance(answer, dict)
                sc.disconnect()
        except Exception as exc:
            errors.append(f"{connect_auth!r} {resync!r}: {type(exc).__name__}: {exc}")

    one_socket()
    assert errors == [], "\n".join(errors[:10])
