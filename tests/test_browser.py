"""The walking skeleton in a real browser: kiosk check-in -> counter calls -> display shows it.

A real server (`handover demo --no-run`, then `handover run`) in a temporary instance folder;
Debian's chromium driven by Playwright (never `playwright install`). Screenshots go to
test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.live_server import handover_cmd, running_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium")
STAFF = ("staff01", "handover-staff")


@dataclass
class LiveServer:
    base: str
    instance: Path
    db_url: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    instance = tmp_path_factory.mktemp("instance")
    # Only our own settings: a HANDOVER_DATABASE_URL from the environment must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOVER_")}
    env.update(HANDOVER_INSTANCE_PATH=str(instance), HANDOVER_PRINT_WORKER="0")
    cmd = handover_cmd()
    subprocess.run([*cmd, "demo", "--no-run"], env=env, check=True, capture_output=True, timeout=90)
    with running_server(env, instance / "server.log") as server:
        yield LiveServer(
            base=server.base, instance=instance, db_url=f"sqlite:///{instance / 'handover.db'}"
        )


def _unit_due_today(db_url: str) -> str:
    """The notice code of a demo unit whose appointment is today (the demo starts today)."""
    from server import clock
    from server.models import Appointment, Unit

    clock.set_timezone("Asia/Shanghai")
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            code = s.scalar(
                select(Unit.notice_code)
                .join(Appointment, Appointment.unit_id == Unit.id)
                .where(Appointment.day == clock.today(), Unit.handed_over.is_(False))
                .order_by(Unit.id)
                .limit(1)
            )
    finally:
        engine.dispose()
    assert code, "the demo has no appointment today"
    return code


def _verify_counter_id(db_url: str) -> int:
    from server.models import Counter, Step, counter_steps

    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            return s.scalar(
                select(Counter.id)
                .join(counter_steps, counter_steps.c.counter_id == Counter.id)
                .join(Step, Step.id == counter_steps.c.step_id)
                .where(Step.code == "verify", Counter.is_open)
                .order_by(Counter.code)
                .limit(1)
            )
    finally:
        engine.dispose()


def _assert_phone_can_scan(png: Path, expected: str) -> None:
    """The QR code on the screen, as a phone camera would read it."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:  # zxing-cpp is in the test extra; without it, skip just this check
        return
    texts = [b.text for b in zxingcpp.read_barcodes(Image.open(png))]
    assert expected in texts, texts


def test_check_in_call_and_display(live_server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.base
    code = _unit_due_today(live_server.db_url)
    counter_id = _verify_counter_id(live_server.db_url)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            staff = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            staff.set_default_timeout(10_000)

            # Log in (zh-CN by default).
            login = staff.new_page()
            login.goto(f"{base}/login")
            expect(login.locator("h1")).to_have_text("交付日")
            login.fill("#username", STAFF[0])
            login.fill("#password", STAFF[1])
            login.click("button[type=submit]")
            expect(login).to_have_url(f"{base}/admin/")
            expect(login.get_by_role("link", name="进入窗口").first).to_be_visible()

            # The display board, 1080p; never reloaded below.
            display = staff.new_page()
            display.set_viewport_size({"width": 1920, "height": 1080})
            display.goto(f"{base}/display/")
            expect(display.locator("#waits tr").first).to_be_visible()  # snapshot applied
            display.evaluate("window.__notReloaded = true")

            # The counter page of a verification counter.
            counter = staff.new_page()
            counter.goto(f"{base}/counter/{counter_id}")
            expect(counter.locator("#act-call")).to_be_enabled()
            expect(counter.locator("#waiting")).to_contain_text("资料审核")

            # The kiosk: an unknown code gets a clear answer, then back to the start.
            kiosk = staff.new_page()
            kiosk.set_viewport_size({"width": 1280, "height": 1024})
            kiosk.goto(f"{base}/kiosk/")
            expect(kiosk.locator("#code")).to_be_focused()
            kiosk.keyboard.type("NOSUCHCODE42")
            kiosk.keyboard.press("Enter")
            expect(kiosk.locator("#err-msg")).to_be_visible()
            expect(kiosk.locator("#err-msg")).not_to_be_empty()
            kiosk.screenshot(path=str(ARTIFACTS / "kiosk-error.png"))
            kiosk.click("#err-back")

            # The scanner types the notice code and Enter into the focused input.
            expect(kiosk.locator("#code")).to_be_focused()
            kiosk.keyboard.type(code)
            kiosk.keyboard.press("Enter")
            kiosk.click("#c-ok")  # "Is this you?": confirmed with one tap
            ticket = kiosk.locator("#t-no")
            expect(ticket).to_have_text(re.compile(r"^[A-Z]\d{3}$"))
            ticket_no = ticket.inner_text()
            expect(kiosk.locator("#t-step")).to_have_text("资料审核")
            expect(kiosk.locator("#t-qr")).to_have_js_property("complete", True)
            assert kiosk.locator("#t-qr").evaluate("img => img.naturalWidth") > 0
            kiosk.screenshot(path=str(ARTIFACTS / "kiosk-ticket.png"))
            status_url = parse_qs(urlparse(kiosk.locator("#t-qr").get_attribute("src")).query)[
                "data"
            ][0]
            assert status_url.startswith(f"{base}/s/")
            _assert_phone_can_scan(ARTIFACTS / "kiosk-ticket.png", status_url)

            # The display counts the new arrival without a reload.
            expect(display.locator("#waits")).to_contain_text("1 人")

            # The counter calls the next number: ours.
            counter.click("#act-call")
            expect(counter.locator("#current-ticket")).to_have_text(ticket_no)
            expect(counter.locator("#act-start")).to_be_enabled()
            expect(counter.locator("#act-call")).to_be_disabled()
            counter.screenshot(path=str(ARTIFACTS / "counter-called.png"))

            # The display shows the call within a few seconds, by itself.
            expect(display.locator("#now .d-now-ticket").first).to_contain_text(
                ticket_no, timeout=5_000
            )
            expect(display.locator("#now .d-now-row").first).to_contain_text("资料审核")
            assert display.evaluate("window.__notReloaded") is True
            display.wait_for_timeout(3500)  # let the flash animation end before the picture
            display.screenshot(path=str(ARTIFACTS / "display-called.png"))

            # The owner's phone (no login): called, go to the counter.
            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
            )
            owner = phone.new_page()
            owner.goto(status_url)
            expect(owner.locator("#ticket-no")).to_have_text(ticket_no)
            expect(owner.locator("#now")).to_contain_text("请到")
            owner.wait_for_timeout(5000)  # the "called" pulse ends
            owner.screenshot(path=str(ARTIFACTS / "status-called.png"))

            # Serving starts at the counter: the phone follows live.
            counter.click("#act-start")
            expect(counter.locator("#act-complete")).to_be_enabled()
            expect(owner.locator("#now")).to_contain_text("正在")
            phone.close()
        finally:
            browser.close()
