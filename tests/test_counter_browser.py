"""A full visit through the counter panels in Chromium, on the tablet layout: verification
(documents seen), fees (paid with receipt numbers), signing (signatures drawn with the mouse),
inspection skipped by a supervisor through the API (the inspection stream tests its panel), and
keys (counted, meters read, signed) whose receipt prints on the fake printer by itself.
A second screen of the key counter (desk PC, English) follows live. Screenshots of every panel
go to test-artifacts/."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    _free_port,
    _handover_cmd,
    _wait_until_up,
)

pytestmark = pytest.mark.browser
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TABLET = {"width": 1024, "height": 768}
DESK = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def venue_server(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from server.printing.fake_printer import FakePrinter

    instance = tmp_path_factory.mktemp("counter-instance")
    printer = FakePrinter(port=0).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOVER_")}
    env.update(HANDOVER_INSTANCE_PATH=str(instance), HANDOVER_PRINT_WORKER_INTERVAL="0.3")
    cmd = _handover_cmd()
    subprocess.run(
        [*cmd, "demo", "--no-run", "--printer-port", str(printer.port)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    log = instance / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/login", proc, log)
        yield base, f"sqlite:///{instance / 'handover.db'}", printer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        printer.stop()


def _check_in_co_owned_unit(db_url: str) -> tuple[int, str, dict[str, int]]:
    """Checks in a unit with two owners due today; returns (visit id, ticket, counters)."""
    from server import clock
    from server.models import Appointment, Counter, Project, Unit, UnitOwner
    from server.services import checkin
    from server.services.actor import Actor

    clock.set_timezone("Asia/Shanghai")
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            two = (
                select(UnitOwner.unit_id)
                .group_by(UnitOwner.unit_id)
                .having(func.count() == 2)
                .scalar_subquery()
            )
            code = s.scalar(
                select(Unit.notice_code)
                .join(Appointment, Appointment.unit_id == Unit.id)
                .where(Appointment.day == clock.today(), Unit.id.in_(two))
                .order_by(Unit.id)
                .limit(1)
            )
            pid = s.scalar(select(Project.id))
            visit = checkin.check_in(
                s, project_id=pid, code=code, actor=Actor(role="kiosk", name="签到机1")
            )
            counters = {c.code: c.id for c in s.scalars(select(Counter))}
            return visit.id, visit.ticket_no, counters
    finally:
        engine.dispose()


def _login(context, base: str, user: str, password: str) -> None:
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    page.close()


def _draw(page, canvas_selector: str) -> None:
    page.locator(canvas_selector).scroll_into_view_if_needed()
    box = page.locator(canvas_selector).bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.6
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(x0 + i * box["width"] * 0.06, y0 - (i % 3) * box["height"] * 0.15)
    page.mouse.up()


def test_full_visit_through_the_panels_on_a_tablet(venue_server):
    from playwright.sync_api import expect, sync_playwright

    base, db_url, printer = venue_server
    ARTIFACTS.mkdir(exist_ok=True)
    visit_id, ticket_no, counters = _check_in_co_owned_unit(db_url)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"counter-{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            tablet = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
            tablet.set_default_timeout(10_000)
            _login(tablet, base, "staff01", "handover-staff")
            page = tablet.new_page()
            page.on("pageerror", lambda e: print("pageerror:", e))

            def serve(code: str, key: str | None = None) -> None:
                page.goto(f"{base}/counter/{counters[code]}?layout=tablet")
                expect(page.locator("#act-call")).to_be_enabled()
                if key:  # the desk PC's shortcut: F1 calls the next number
                    page.keyboard.press(key)
                else:
                    page.click("#act-call")
                expect(page.locator("#current-ticket")).to_have_text(ticket_no)
                expect(page.locator("#holder-name")).to_have_text("您已签入本窗口")

            def complete() -> None:
                page.click("#act-complete")
                expect(page.locator("#act-call")).to_be_enabled()

            # 1. Verification: the completion gate first, then each document seen.
            serve("W01")
            expect(page.locator("#verify-table tr")).to_have_count(3)  # 2 ID cards + contract
            page.click("#act-complete")
            expect(page.locator("#message")).to_contain_text("尚不能办结")
            for i in range(3):
                page.locator("#verify-table tr").nth(i).get_by_role("button", name="已核验").click()
                expect(page.locator("#verify-table tr").nth(i).locator(".badge-ok")).to_have_text(
                    "已核验"
                )
            expect(page.locator("#missing")).to_be_hidden()
            expect(page.locator("#message")).to_be_hidden()  # stale refusal cleared
            expect(page.locator("#act-complete")).to_be_enabled()
            shot(page, "tablet-verify")
            complete()

            # 2. Fees: each paid by POS with its receipt number; totals add up.
            serve("W05")
            rows = page.locator("#fees-table tr")
            expect(rows).to_have_count(5)
            for i in range(5):
                rows.nth(i).locator("input.p-receipt").fill(f"POS2026{i:04d}")
                rows.nth(i).get_by_role("button", name="已缴").click()
                expect(rows.nth(i).locator(".badge-ok")).to_contain_text(f"POS2026{i:04d}")
            expect(page.locator(".p-totals")).to_contain_text("未结 ¥0.00")
            shot(page, "tablet-fees")
            complete()

            # 3. Signing: every document signed on the pad with the mouse.
            serve("W08")
            buttons = page.locator("#sign-table .p-sign-btn")
            expect(buttons).to_have_count(8)  # 4 documents x 2 co-owners
            for _ in range(8):
                page.locator("#sign-table .p-sign-btn").first.click()
                _draw(page, ".sig-canvas")
                if _ == 7:
                    shot(page, "tablet-sign-pad")
                page.click("#save-signature")
                expect(page.locator("#save-signature")).to_have_count(0)
            expect(page.locator("#sign-table .p-sign-btn")).to_have_count(0)
            shot(page, "tablet-sign")
            complete()

            # 4. Inspection: a supervisor skips it through the API.
            sup = browser.new_context(locale="zh-CN")
            _login(sup, base, "supervisor", "handover-sup")
            sup_page = sup.new_page()
            sup_page.goto(f"{base}/counter/")
            token = sup_page.locator('meta[name="csrf-token"]').get_attribute("content")
            r = sup.request.post(
                f"{base}/api/visits/{visit_id}/skip",
                data={"step": "inspect", "reason": "业主已于上周预验房"},
                headers={"X-CSRFToken": token},
            )
            assert r.ok, r.text()

            # The supervisor publishes a standard response; the tablet shows it at once.
            sup_page.goto(f"{base}/counter/{counters['W02']}")
            sup_page.fill("#resp-topic", "车位租售方案")
            sup_page.fill("#resp-text", "车位销售方案将于交付后一个月内公示，届时业主可优先选购。")
            sup_page.click("#resp-form button[type=submit]")
            expect(page.locator("#resp-new")).to_contain_text("车位租售方案")
            expect(page.locator("#responses")).to_contain_text("车位租售方案")

            # 5. Keys, with a desk PC screen (English) of the same counter following live.
            desk_ctx = browser.new_context(viewport=DESK, locale="en")
            _login(desk_ctx, base, "staff01", "handover-staff")
            desk = desk_ctx.new_page()
            desk.goto(f"{base}/counter/{counters['W11']}?lang=en&layout=desk")
            serve("W11", key="F1")
            expect(desk.locator("#current-ticket")).to_have_text(ticket_no)  # live, no reload
            expect(desk.locator("#keys-table")).to_be_visible()
            for i, reading in enumerate(("12.5", "308.20", "0.8")):
                page.locator("input.p-reading").nth(i).fill(reading)
            _draw(page, ".sig-canvas")
            shot(page, "tablet-keys")
            desk.screenshot(path=str(ARTIFACTS / "counter-desk-keys-en.png"), full_page=True)
            page.click("#hand-over")
            expect(page.locator("#keys-done")).to_be_visible()
            expect(desk.locator("#keys-done")).to_be_visible()  # the other screen follows
            jobs = printer.wait_for(1, timeout=15)
            assert len(jobs) == 1 and jobs[0].startswith(b"\x1b@")  # one receipt, printed
            shot(page, "tablet-keys-done")
            complete()
            from server.models import PrintJob, Visit

            engine = create_engine(db_url)
            with Session(engine) as s:
                assert s.get(Visit, visit_id).status == "finished"
                job = s.scalar(select(PrintJob).where(PrintJob.visit_id == visit_id))
                assert (job.kind, job.state) == ("key_receipt", "sent")
                assert "钥匙交接单" in str(job.payload)
            engine.dispose()
        except Exception:
            for i, pg in enumerate(p for ctx in browser.contexts for p in ctx.pages):
                pg.screenshot(path=str(ARTIFACTS / f"counter-failure-{i}.png"), full_page=True)
            raise
        finally:
            browser.close()
