"""Chromium: the supervisor's floor view follows a counter's work live (no reload), and the
import dry-run page; screenshots in zh and en go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.test_browser import (  # noqa: F401  (live_server is a fixture)
    ARTIFACTS,
    CHROMIUM,
    _unit_due_today,
    _verify_counter_id,
    live_server,
)

ADMIN = ("admin", "handover-admin")

IMPORT_CSV = (
    "楼栋,单元,房号,姓名,身份证号,手机号\n"
    "1,1,101,张伟,440106198001011230,13800138000\n"
    "1,1,102,李娜,44010619800101123X,1380013\n"
    "99,9,9999,王芳,440106198202024561,13900139000\n"
)


@pytest.mark.timeout(180)
def test_floor_view_updates_live_and_import_dry_run(live_server, tmp_path):  # noqa: F811
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
            ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            ctx.set_default_timeout(10_000)
            page = ctx.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", ADMIN[0])
            page.fill("#password", ADMIN[1])
            page.click("button[type=submit]")

            page.goto(f"{base}/admin/floor?lang=zh_CN")
            expect(page.locator("body[data-floor-ready='1']")).to_be_attached()
            verify_row = page.locator("#floor-steps tr[data-step='verify'] td").nth(1)
            before = int(verify_row.inner_text())
            page.evaluate("window.__notReloaded = true")

            # An owner checks in and a counter calls: the floor view follows, without reload.
            visit = page.evaluate("c => UI.api('POST', '/api/checkin', {code: c})", code)
            expect(verify_row).to_have_text(str(before + 1))
            page.evaluate(f"UI.api('POST', '/api/counters/{counter_id}/call-next')")
            card = page.locator(".a-counter.st-called")
            expect(card.first).to_be_visible()
            expect(page.locator(".a-counter").filter(has_text=visit["ticket_no"])).to_have_count(1)
            assert page.evaluate("window.__notReloaded") is True
            page.screenshot(path=str(ARTIFACTS / "admin-floor-zh.png"), full_page=True)

            page.goto(f"{base}/admin/floor?lang=en")
            expect(page.locator("body[data-floor-ready='1']")).to_be_attached()
            expect(page.locator("h1.title")).to_have_text("Floor view")
            page.screenshot(path=str(ARTIFACTS / "admin-floor-en.png"), full_page=True)

            # The import dry run lists every row's problem, in Chinese by default.
            csv_path = tmp_path / "owners.csv"
            csv_path.write_bytes(IMPORT_CSV.encode("gbk"))
            for lang in ("zh_CN", "en"):
                page.goto(f"{base}/admin/imports?lang={lang}")
                page.set_input_files("#file", str(csv_path))
                page.click(".a-upload button[type=submit]")
                expect(page.locator("#import-errors tbody tr")).to_have_count(3)
                page.screenshot(path=str(ARTIFACTS / f"admin-import-{lang}.png"), full_page=True)
            expect(page.locator("#import-errors")).to_contain_text("check digit")

            # Floor plans: a PDF page as a unit type's plan; a late upload resolved with a note.
            _late_upload(live_server.db_url)
            pdf_path = tmp_path / "plan.pdf"
            pdf_path.write_bytes(_plan_pdf())
            page.goto(f"{base}/admin/floor-plans?lang=zh_CN")
            first = page.locator("#floor-plans tbody tr").first
            first.locator("input[type=file]").set_input_files(str(pdf_path))
            first.locator("input[name=page]").fill("2")
            first.locator("button").click()
            expect(page.locator(".alert-error")).to_have_count(0)
            expect(page.locator("#floor-plans tbody tr").first.locator("img")).to_be_visible()
            row = page.locator("#sync-issues tbody tr[data-issue]").first
            row.locator("input[name=resolution]").fill("已与验房员核实，并入整改单")
            row.locator("button").click()
            expect(page.locator("#sync-resolved")).to_contain_text("已与验房员核实，并入整改单")
            expect(page.locator("#sync-resolved")).to_contain_text("系统管理员")
            page.screenshot(path=str(ARTIFACTS / "admin-floor-plans-zh.png"), full_page=True)

            # Settings pages share the layout; looked at in Chinese.
            page.goto(f"{base}/admin/config/counters?lang=zh_CN")
            expect(page.locator("#config-table tbody tr").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "admin-config-counters-zh.png"))
            page.goto(f"{base}/admin/config?lang=zh_CN")
            page.screenshot(path=str(ARTIFACTS / "admin-config-zh.png"), full_page=True)
        finally:
            browser.close()


def _plan_pdf() -> bytes:
    """Two pages; page 2 a simple two-room plan."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_page(format=(400, 300))
    pdf.add_page(format=(600, 400))
    pdf.set_line_width(6)
    pdf.rect(20, 20, 560, 360)
    pdf.line(300, 20, 300, 380)
    pdf.set_font("helvetica", size=28)
    pdf.text(90, 210, "ROOM A")
    pdf.text(390, 210, "ROOM B")
    return bytes(pdf.output())


def _late_upload(db_url: str) -> None:
    """A defect that reached the server after its visit was cancelled (a record to resolve)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from server.models import InspectionSyncIssue, Visit

    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            visit_id = s.scalar(select(Visit.id).order_by(Visit.id.desc()).limit(1))
            s.add(
                InspectionSyncIssue(
                    visit_id=visit_id,
                    entity="defect",
                    entity_id=1,
                    client_id="browser-late-0001",
                    code="visit_not_active",
                )
            )
            s.commit()
    finally:
        engine.dispose()
