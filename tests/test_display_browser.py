"""The board in a real Chromium, with nobody touching it: a counter's call appears and is
announced with the right clips, a burst is announced in order, both screen sizes in both
languages, a compressed day leaves memory flat, and the board recovers by itself when the
server restarts on the same port.

Chromium runs with --autoplay-policy=no-user-gesture-required, as the board's kiosk does
(docs/display.md): sound starts without a tap.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.live_server import free_port, handover_cmd, wait_until_up

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium")
STAFF = ("staff01", "handover-staff")
VOICE_BASE = "/display/static/voice/"


@dataclass
class BoardServer:
    instance: Path
    env: dict
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.instance / 'handover.db'}"

    def start(self) -> None:
        log = self.instance / "server.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*handover_cmd(), "run", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_up(f"{self.base}/login", self.proc, log)

    def stop(self) -> None:
        """Ends the server's process group (gunicorn's master and its worker, which an open
        websocket would keep alive past the master's graceful timeout)."""
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # a worker still holding websockets
        self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    instance = tmp_path_factory.mktemp("board-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOVER_")}
    env.update(HANDOVER_INSTANCE_PATH=str(instance), HANDOVER_PRINT_WORKER="0")
    subprocess.run(
        [*handover_cmd(), "demo", "--no-run"], env=env, check=True, capture_output=True, timeout=90
    )
    srv = BoardServer(instance=instance, env=env)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def staff(browser, server):
    """A logged-in browser context (the login form, as a person does it)."""
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{server.base}/login")
    page.fill("#username", STAFF[0])
    page.fill("#password", STAFF[1])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}/admin/")
    page.close()
    yield ctx
    ctx.close()


def open_board(ctx, server, width=1920, height=1080, lang="zh_CN"):
    from playwright.sync_api import expect

    page = ctx.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{server.base}/display/?lang={lang}")
    expect(page.locator("#waits tr").first).to_be_visible()  # the snapshot is applied
    return page


def api(page, method: str, url: str, body=None):
    """Through the page's own UI.api (sends the CSRF token like every screen does)."""
    return page.evaluate("([m, u, b]) => UI.api(m, u, b)", [method, url, body])


def unit_due_today(db_url: str) -> str:
    """The notice code of a demo unit invited today and not checked in yet."""
    from server import clock
    from server.models import Appointment, Unit, Visit

    clock.set_timezone("Asia/Shanghai")
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            return s.scalar(
                select(Unit.notice_code)
                .join(Appointment, Appointment.unit_id == Unit.id)
                .where(
                    Appointment.day == clock.today(),
                    Unit.id.not_in(select(Visit.unit_id).where(Visit.day == clock.today())),
                )
                .order_by(Unit.id)
                .limit(1)
            )
    finally:
        engine.dispose()


def counter_for(db_url: str, step_code: str, nth: int = 0) -> dict:
    from server.models import Counter, Step, counter_steps

    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            c = s.scalar(
                select(Counter)
                .join(counter_steps, counter_steps.c.counter_id == Counter.id)
                .join(Step, Step.id == counter_steps.c.step_id)
                .where(Step.code == step_code, Counter.is_open)
                .order_by(Counter.code)
                .offset(nth)
                .limit(1)
            )
            return {"id": c.id, "name_zh": c.name_zh}
    finally:
        engine.dispose()


def expected_clips(ticket: str, counter_zh: str, step_zh: str, recall: bool = False) -> list[str]:
    """What the board must play, from the committed manifest (not from the page's code)."""
    from display.voice import ZH_DIGITS, load_manifest, zh_number

    m = load_manifest()
    words = ["再次呼叫"] if recall else []
    words += ["请", *(ZH_DIGITS[int(ch)] if ch.isdigit() else ch for ch in ticket), "号", "到"]
    number = counter_zh.removesuffix("号窗口")
    words += [counter_zh] if counter_zh in m["zh"] else [zh_number(int(number)), "号窗口"]
    words += ["办理", step_zh]
    return [VOICE_BASE + m["chime"], *(VOICE_BASE + m["zh"][w] for w in words)]


def fake_calls(n: int, start: int = 1, recall_every: int = 0) -> list[dict]:
    steps = [
        ("verify", "资料审核", "Verification"),
        ("fees", "收费确认", "Fee confirmation"),
        ("sign", "签约", "Signing"),
        ("inspect", "验房", "Inspection"),
        ("keys", "钥匙交接", "Key handover"),
    ]
    out = []
    for i in range(start, start + n):
        code, zh, en = steps[i % 5]
        k = i % 8 + 1
        team = code == "inspect"
        out.append(
            {
                "id": 1_000_000 + i,
                "ticket_no": f"A{i % 1000:03d}",
                "recall": bool(recall_every and i % recall_every == 0),
                "at": "2026-11-27T10:00:00",
                "counter": {
                    "id": k,
                    "code": f"W{k:02d}",
                    "name_zh": f"验房员{k}组" if team else f"{k}号窗口",
                    "name_en": f"Inspection team {k}" if team else f"Counter {k}",
                    "area": "A区",
                },
                "step": {"code": code, "name_zh": zh, "name_en": en},
            }
        )
    return out


def wait_for_log(page, n: int, timeout_s: float = 30) -> list[dict]:
    page.wait_for_function(f"__board.log.length >= {n}", timeout=timeout_s * 1000)
    return page.evaluate("__board.log")


# ---- tests -------------------------------------------------------------------------------


def test_a_counters_call_appears_and_is_announced_with_the_expected_clips(server, staff):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    board = open_board(staff, server)
    board.evaluate("window.__notReloaded = true")
    assert board.evaluate("BoardVoice.state") == "running"  # no tap: the autoplay flag
    expect(board.locator("#sound")).to_be_hidden()
    if board.evaluate("__board.idle"):
        board.screenshot(path=str(ARTIFACTS / "display-idle-1920x1080-zh.png"))

    counter = counter_for(server.db_url, "verify")
    api(board, "POST", "/api/checkin", {"code": unit_due_today(server.db_url)})
    called = api(board, "POST", f"/api/counters/{counter['id']}/call-next")
    ticket = called["current"]["ticket_no"]
    vs_id = called["current"]["current"]["visit_step_id"]

    row = board.locator("#now .d-now-row.is-current")
    expect(row.locator(".d-now-ticket")).to_have_text(ticket, timeout=5_000)
    expect(row).to_contain_text(counter["name_zh"])
    expect(row).to_contain_text("资料审核")
    entry = wait_for_log(board, 1)[-1]
    assert entry["ticket"] == ticket
    assert entry["clips"] == expected_clips(ticket, counter["name_zh"], "资料审核")
    # Every clip of it is served and decodes in the browser.
    durations = board.evaluate(
        """urls => Promise.all(urls.map(u => fetch(u).then(r => r.arrayBuffer())
             .then(b => new OfflineAudioContext(1, 1, 24000).decodeAudioData(b))
             .then(a => a.duration)))""",
        entry["clips"],
    )
    assert all(d > 0.1 for d in durations), durations
    board.wait_for_function(f"__board.log.find(e => e.id === {entry['id']}).how !== null")
    assert board.evaluate(f"__board.log.find(e => e.id === {entry['id']}).how") == "clips"

    # A recall: marked 重呼 and announced again, after the first announcement.
    api(board, "POST", f"/api/counters/{counter['id']}/tickets/{vs_id}/recall")
    recall = wait_for_log(board, 2)[-1]
    assert recall["recall"] is True
    assert recall["clips"] == expected_clips(ticket, counter["name_zh"], "资料审核", recall=True)
    expect(board.locator("#now .is-current .d-recall")).to_have_text("重呼")
    assert board.evaluate("window.__notReloaded") is True
    board.close()


def test_a_burst_of_ten_calls_is_shown_and_announced_in_order(server, staff):
    board = open_board(staff, server)
    board.evaluate("__board.setSpeed(20)")  # each call still takes its turn, only faster
    calls = fake_calls(10, start=500)
    seen = board.evaluate(
        """calls => {
             const seen = [];
             const obs = new MutationObserver(() => {
               const cur = document.querySelector('#now .is-current .d-now-ticket');
               if (cur && seen[seen.length - 1] !== cur.textContent) seen.push(cur.textContent);
             });
             obs.observe(document.getElementById('now'), {childList: true, subtree: true});
             window.__seen = seen;
             calls.forEach(c => __board.receive('ticket_called', c));  // all in the same moment
             return seen.length;
           }""",
        calls,
    )
    assert seen <= 1
    # English after Mandarin when the board asks for it: every clip from the manifest.
    from display.voice import load_manifest

    en = load_manifest()["en"]
    plan_en = board.evaluate("c => BoardVoice.plan(c, {en: true})", calls[3])  # 验房员8组
    tail = ("Number", "A", "5", "0", "3", "please go to", "Inspection team 8", "for", "Inspection")
    assert plan_en[-len(tail) :] == [VOICE_BASE + en[w] for w in tail]
    assert all(u.startswith(VOICE_BASE) for u in plan_en)
    log = wait_for_log(board, 10)
    assert [e["ticket"] for e in log] == [c["ticket_no"] for c in calls]
    board.wait_for_function("__seen.length >= 10")
    # Each one was the highlighted call in turn: none skipped, none flashed past unseen.
    assert board.evaluate("__seen") == [c["ticket_no"] for c in calls]
    board.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920)])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_both_sizes_and_languages_show_big_numbers_and_whole_rows(
    server, staff, width, height, lang
):
    board = open_board(staff, server, width, height, lang)
    board.evaluate("__board.setSpeed(200)")
    calls = fake_calls(16, start=20, recall_every=7)
    board.evaluate("calls => calls.forEach(c => __board.receive('ticket_called', c))", calls)
    wait_for_log(board, 16)
    board.evaluate("__board.setSpeed(1)")
    board.wait_for_function("!__board.state.pending.length")
    board.wait_for_timeout(300)

    tickets = board.locator("#now .d-now-ticket")
    assert tickets.count() >= 3
    for i in range(tickets.count()):
        box = tickets.nth(i).bounding_box()
        assert box["height"] >= 0.1 * height, (i, box)  # ≥ 10% of the screen height
    # Recent calls: as many as fit, never a clipped row.
    fit = board.evaluate(
        """() => {
             const panel = document.querySelector('.d-recent').getBoundingClientRect();
             const rows = [...document.querySelectorAll('#recent li')].map(li => li.getBoundingClientRect());
             return {n: rows.length, clipped: rows.filter(r => r.bottom > panel.bottom + 0.5).length,
                     room: panel.bottom - (rows.length ? rows[rows.length - 1].bottom : panel.top)};
           }"""
    )
    assert fit["n"] >= 1 and fit["clipped"] == 0, fit
    row_h = board.locator("#recent li").first.bounding_box()["height"]
    assert fit["room"] < row_h + 40, fit  # no room left for one more row
    # Nothing spills off the screen sideways.
    assert board.evaluate("document.documentElement.scrollWidth") <= width
    assert board.locator("#ticker").is_visible()  # the demo's notices
    lang_tag = "zh" if lang == "zh_CN" else "en"
    board.wait_for_timeout(3200)  # the highlight's pulse ends
    board.screenshot(path=str(ARTIFACTS / f"display-{width}x{height}-{lang_tag}.png"))
    board.close()


def test_a_compressed_day_leaves_memory_and_the_dom_flat(server, staff):
    """Thousands of calls, waiting counts and notices replayed fast into one board."""
    board = open_board(staff, server)
    cdp = board.context.new_cdp_session(board)
    cdp.send("Performance.enable")

    def metrics() -> dict:
        cdp.send("HeapProfiler.collectGarbage")
        board.wait_for_timeout(200)
        cdp.send("HeapProfiler.collectGarbage")
        got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return {k: got[k] for k in ("JSHeapUsedSize", "Nodes", "JSEventListeners")}

    replay = """async ([calls, speed]) => {
        __board.setSpeed(speed);
        const steps = __board.state.steps;
        for (let i = 0; i < calls.length; i++) {
          __board.receive('ticket_called', calls[i]);
          if (i % 10 === 0) __board.receive('queue_changed', {steps: steps.map(s => ({...s, waiting: i % 37}))});
          if (i % 50 === 0) __board.receive('notices_changed', {notices: [{id: i, text_zh: '第' + i + '号公告', text_en: null, expires_at: null}]});
          if (i % 25 === 0) await new Promise(r => setTimeout(r, 0));
        }
        while (__board.state.pending.length || __board.state.current) await new Promise(r => setTimeout(r, 20));
        return __board.log.length;
      }"""
    board.evaluate(replay, [fake_calls(400, start=1, recall_every=13), 100000])
    before = metrics()
    t0 = time.monotonic()
    board.evaluate(replay, [fake_calls(2400, start=401, recall_every=13), 100000])
    elapsed = time.monotonic() - t0
    after = metrics()
    print(f"replayed 2400 calls in {elapsed:.1f}s; before {before}; after {after}")
    assert after["Nodes"] - before["Nodes"] < 60, (before, after)
    assert after["JSEventListeners"] - before["JSEventListeners"] < 10, (before, after)
    assert after["JSHeapUsedSize"] < before["JSHeapUsedSize"] * 1.25 + 512 * 1024, (before, after)
    assert board.evaluate("__board.log.length") <= 200  # the test log itself is bounded
    assert board.evaluate("__board.state.shown.length") <= 40
    board.close()


def test_the_board_recovers_by_itself_after_the_server_restarts(server, staff):
    from playwright.sync_api import expect

    board = open_board(staff, server)
    board.evaluate("window.__notReloaded = true")
    server.stop()
    banner = board.locator("#conn-banner")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_have_text("正在重新连接…")
    board.screenshot(path=str(ARTIFACTS / "display-reconnecting-1920x1080-zh.png"))

    server.start()  # same port, same database
    expect(banner).to_be_hidden(timeout=20_000)
    counter = counter_for(server.db_url, "verify", nth=1)
    api(board, "POST", "/api/checkin", {"code": unit_due_today(server.db_url)})
    called = api(board, "POST", f"/api/counters/{counter['id']}/call-next")
    expect(board.locator("#now .is-current .d-now-ticket")).to_have_text(
        called["current"]["ticket_no"], timeout=10_000
    )
    assert board.evaluate("window.__notReloaded") is True
    board.close()
