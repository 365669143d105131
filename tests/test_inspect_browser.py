"""The inspection tablet in a real browser with no network: capture in the unit, reload while
offline, come back in range and find on the server exactly what was captured, once. And a sync
cut in the middle (answers lost, page closed) loses nothing and duplicates nothing.

Debian's chromium via Playwright; one demo server for the module (floor plans drawn by the
demo). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.test_browser import ARTIFACTS, CHROMIUM, live_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

INSPECTOR = ("staff08", "handover-staff")


def _send_to_inspection(db_url: str, skip: int, known_issues: bool = False) -> str:
    """Checks in a demo unit due today and sends it straight to inspection; its ticket no."""
    from server import clock
    from server.models import Appointment, KnownIssue, Project, Unit, UnitType
    from server.services import checkin, queue
    from server.services.actor import Actor

    clock.set_timezone("Asia/Shanghai")
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            pid = s.scalar(select(Project.id))
            has_issue = select(KnownIssue.id).where(KnownIssue.unit_id == Unit.id).exists()
            code = s.scalar(
                select(Unit.notice_code)
                .join(Appointment, Appointment.unit_id == Unit.id)
                .join(UnitType, UnitType.id == Unit.unit_type_id)
                .where(Appointment.day == clock.today(), UnitType.floor_plan_file_id.isnot(None))
                .where(has_issue if known_issues else ~has_issue)
                .order_by(Unit.id)
                .offset(skip)
                .limit(1)
            )
            actor = Actor(staff_id=None, role="system")
            visit = checkin.check_in(s, project_id=pid, code=code, actor=actor)
            queue.transfer(s, visit_id=visit.id, to_step="inspect", actor=actor)
            return visit.ticket_no
    finally:
        engine.dispose()


def _server_holds(db_url: str, ticket: str) -> dict:
    from server import clock
    from server.models import (
        Defect,
        DefectPhoto,
        InspectionCheck,
        InspectionResult,
        KnownIssueCheck,
        StoredFile,
        Visit,
    )

    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            visit = s.scalar(
                select(Visit).where(Visit.ticket_no == ticket, Visit.day == clock.today())
            )
            defects = s.scalars(
                select(Defect).where(Defect.visit_id == visit.id).order_by(Defect.id)
            ).all()
            photos = s.scalar(
                select(func.count())
                .select_from(DefectPhoto)
                .where(DefectPhoto.defect_id.in_([d.id for d in defects] or [0]))
            )
            results = s.scalars(
                select(InspectionResult).where(InspectionResult.visit_id == visit.id)
            ).all()
            checks = s.scalar(
                select(func.count())
                .select_from(InspectionCheck)
                .where(InspectionCheck.visit_id == visit.id)
            )
            sig = (
                s.get(StoredFile, results[0].signature_file_id)
                if results and results[0].signature_file_id
                else None
            )
            known = s.scalars(
                select(KnownIssueCheck.result).where(KnownIssueCheck.visit_id == visit.id)
            ).all()
            return {
                "visit_id": visit.id,
                "known": list(known),
                "defects": [(d.room, d.description, d.pin_x is not None) for d in defects],
                "photos": photos,
                "results": [(r.outcome, r.promised_date) for r in results],
                "checks": checks,
                "signature": (sig.kind, sig.width) if sig else None,
            }
    finally:
        engine.dispose()


def _test_jpeg(path, color) -> str:
    img = Image.new("RGB", (2400, 1800), color)  # a camera-sized picture: resized on the tablet
    d = ImageDraw.Draw(img)
    d.ellipse([600, 400, 1800, 1400], outline="white", width=40)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    path.write_bytes(buf.getvalue())
    return str(path)


def _login(page, base):
    page.goto(f"{base}/login")
    page.fill("#username", INSPECTOR[0])
    page.fill("#password", INSPECTOR[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _take(page, base, ticket, shot=None):
    from playwright.sync_api import expect

    page.goto(f"{base}/inspect/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.locator(".i-call").first.click()
    start = page.locator(".i-start", has_text=ticket)
    if shot:
        expect(start).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / shot))
    expect(start).to_contain_text(ticket)
    start.click()
    expect(page.locator("#title")).to_contain_text(ticket)


def _record_defect(page, n, room_label, photo, pin):
    from playwright.sync_api import expect

    page.click("[data-tab=defects]")
    page.click("#add-defect")
    page.select_option("select[name=room]", label=room_label)
    page.fill("textarea[name=description]", f"问题{n}：墙面空鼓约{n * 10}cm")
    page.set_input_files("input.i-file", photo)
    expect(page.locator(".i-draft .i-thumb")).to_have_count(1)
    plan = page.locator(".i-draft .i-plan-img")
    plan.scroll_into_view_if_needed()
    box = plan.bounding_box()
    plan.click(position={"x": box["width"] * pin[0], "y": box["height"] * pin[1]})
    expect(page.locator(".i-pin-hint")).to_contain_text("已标注")
    page.click("#save-defect")
    expect(page.locator(".i-defect")).to_have_count(n)


def _sign(page):
    canvas = page.locator("canvas.i-sign")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x + w * (0.1 + i * 0.06), y + h * (0.3 if i % 2 else 0.7), steps=3)
    page.mouse.up()


def _wait_synced(page, timeout=20):
    from playwright.sync_api import expect

    expect(page.locator("#sync")).to_have_attribute("data-state", "synced", timeout=timeout * 1000)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def test_offline_walk_syncs_exactly_once(live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.base
    ticket = _send_to_inspection(live_server.db_url, skip=0, known_issues=True)
    ctx = browser.new_context(viewport={"width": 1024, "height": 1366}, locale="zh-CN")
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    try:
        _login(page, base)
        _take(page, base, ticket, shot="inspect-home.png")

        ctx.set_offline(True)
        page.evaluate("navigator.onLine")  # the page sees the network gone
        # The checklist: a room all OK, one item with a defect.
        page.locator(".i-room[data-room=living] .i-all-ok").click()
        expect(page.locator(".i-room[data-room=living] .i-seg-btn.on")).to_have_count(5)
        pins = [(0.2, 0.35), (0.3, 0.75), (0.8, 0.75)]
        rooms = ["主卧", "卫生间", "厨房"]
        colors = [(190, 70, 60), (60, 150, 80), (70, 80, 190)]
        for n in range(1, 4):
            photo = _test_jpeg(tmp_path / f"p{n}.jpg", colors[n - 1])
            _record_defect(page, n, rooms[n - 1], photo, pins[n - 1])
        expect(page.locator(".i-plan .i-pin")).to_have_count(3)
        page.locator(".i-plan").screenshot(path=str(ARTIFACTS / "inspect-plan-pins.png"))

        # A known issue from the internal mock acceptance: still open.
        page.click("[data-tab=known]")
        page.locator(".i-known").first.locator("[data-result=still_open]").click()
        expect(page.locator(".i-known").first.locator(".i-seg-btn.on")).to_have_text("仍存在")

        page.click("[data-tab=outcome]")
        page.click("[data-outcome=accepted_with_defects]")
        page.fill("input[name=promised_date]", "2026-12-31")
        page.fill("input[name=signer_name]", "王小明")
        _sign(page)
        page.click("#save-outcome")
        expect(page.locator(".i-saved")).to_contain_text("带问题接收", timeout=15_000)
        expect(page.locator("#sync")).to_have_attribute("data-state", "waiting")
        page.screenshot(path=str(ARTIFACTS / "inspect-tablet-offline.png"), full_page=True)

        # Nothing reached the server; a reload with no network keeps everything.
        assert _server_holds(live_server.db_url, ticket)["defects"] == []
        page.reload()
        expect(page.locator("#title")).to_contain_text(ticket)
        page.click("[data-tab=defects]")
        expect(page.locator(".i-defect")).to_have_count(3)
        expect(page.locator(".i-defect .i-thumb")).to_have_count(3)

        ctx.set_offline(False)
        _wait_synced(page)
        held = _server_holds(live_server.db_url, ticket)
        assert [d[:2] for d in held["defects"]] == [
            ("master", "问题1：墙面空鼓约10cm"),
            ("bathroom", "问题2：墙面空鼓约20cm"),
            ("kitchen", "问题3：墙面空鼓约30cm"),
        ]
        assert all(d[2] for d in held["defects"])  # every defect pinned
        assert held["photos"] == 3
        assert held["checks"] == 8  # 5 ticked OK, 3 marked by their defects
        assert [r[0] for r in held["results"]] == ["accepted_with_defects"]
        assert held["signature"][0] == "signature"
        assert held["known"] == ["still_open"]
        # Synced again (a later kick) changes nothing.
        page.evaluate("window.InspectApp.sync()")
        assert _server_holds(live_server.db_url, ticket) == held

        # The acceptance form with the pins, as the owner gets it.
        pdf = page.request.get(f"{base}/inspect/visits/{held['visit_id']}/acceptance.pdf")
        assert pdf.ok and pdf.body()[:4] == b"%PDF"
        (ARTIFACTS / "inspect-acceptance-form.pdf").write_bytes(pdf.body())
        page.click("[data-tab=defects]")
        page.screenshot(path=str(ARTIFACTS / "inspect-tablet-synced.png"), full_page=True)
    finally:
        ctx.close()


def test_sync_cut_midway_loses_nothing_and_duplicates_nothing(live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    base = live_server.base
    ticket = _send_to_inspection(live_server.db_url, skip=1)
    ctx = browser.new_context(viewport={"width": 1024, "height": 1366}, locale="zh-CN")
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    try:
        _login(page, base)
        _take(page, base, ticket)
        ctx.set_offline(True)
        for n in (1, 2):
            photo = _test_jpeg(tmp_path / f"q{n}.jpg", (120, 120, 40 * n))
            _record_defect(page, n, "客厅", photo, (0.4, 0.3))
        page.click("[data-tab=outcome]")
        page.click("[data-outcome=accepted]")
        _sign(page)
        page.click("#save-outcome")
        expect(page.locator(".i-saved")).to_be_visible(timeout=15_000)

        # The server stores each defect but its answer never reaches the tablet.
        stored = []

        def lose_answer(route):
            route.fetch()
            stored.append(route.request.url)
            route.abort()

        page.route("**/api/inspect/visits/*/defects", lose_answer)
        ctx.set_offline(False)
        deadline = time.monotonic() + 20
        while not stored and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert stored, "the tablet never tried to upload"
        page.close()  # mid-sync: the rest is still on the tablet

        again = ctx.new_page()
        again.goto(f"{base}/inspect/")
        expect(again.locator("#title")).to_contain_text(ticket)
        _wait_synced(again)
        held = _server_holds(live_server.db_url, ticket)
        assert len(held["defects"]) == 2
        assert held["photos"] == 2
        assert [r[0] for r in held["results"]] == ["accepted"]
        assert held["signature"] is not None
        again.goto(f"{base}/inspect/?lang=en")
        expect(again.locator(".i-tab.active")).to_have_text("Checklist")
        again.screenshot(path=str(ARTIFACTS / "inspect-tablet-en.png"))
    finally:
        ctx.close()
