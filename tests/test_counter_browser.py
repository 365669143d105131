"""A full visit through the five panels in Chromium, on tablets: verification (documents seen,
the optional earlier receipts left), fees (paid with receipt numbers), signing (the co-owner
who did not come marked as such, the other owner signs every document with the mouse and the
signatures show back as thumbnails), inspection by an inspector on the inspection tablet app
(checklist ticked, a defect with a photo and a pin, the unit's known issue confirmed, accepted
with defects by a promised date, the owner signs, synced, step completed), and keys (counted,
meters read, signed) whose receipt prints on the fake printer by itself. A second screen of the
key counter (desk PC, English) follows live. Screenshots of every panel go to test-artifacts/."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.live_server import handover_cmd, running_server
from tests.test_browser import ARTIFACTS, CHROMIUM
from tests.test_inspect_browser import _sign as sign_on_tablet

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
    cmd = handover_cmd()
    subprocess.run(
        [*cmd, "demo", "--no-run", "--printer-port", str(printer.port)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        with running_server(env, instance / "server.log") as server:
            yield server.base, f"sqlite:///{instance / 'handover.db'}", printer
    finally:
        printer.stop()


def _check_in_co_owned_unit(db_url: str) -> tuple[int, str, dict[str, int]]:
    """Checks in a unit with two owners due today (one with a known issue from the internal
    acceptance rounds, if any); returns (visit id, ticket, counters)."""
    from server import clock
    from server.models import Appointment, Counter, KnownIssue, Project, Unit, UnitOwner
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
                .order_by(
                    select(KnownIssue.id).where(KnownIssue.unit_id == Unit.id).exists().desc(),
                    Unit.id,
                )
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


def _photo(path) -> str:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (800, 600), (200, 190, 170))
    ImageDraw.Draw(img).ellipse([250, 150, 550, 450], outline=(90, 60, 40), width=18)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    path.write_bytes(buf.getvalue())
    return str(path)


LOADED = """sel => {
  const imgs = [...document.querySelectorAll(sel)];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


def test_full_visit_through_the_panels_on_a_tablet(venue_server, tmp_path):
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
            # 2 ID cards + contract + the earlier receipts (optional: not every owner has them)
            expect(page.locator("#verify-table tr")).to_have_count(4)
            receipts = page.locator("#verify-table tr[data-doc=earlier_receipts]")
            expect(receipts).to_contain_text("已缴款收据")
            expect(receipts).to_contain_text("（如有）")
            page.click("#act-complete")
            expect(page.locator("#message")).to_contain_text("尚不能办结")
            for i in range(3):
                page.locator("#verify-table tr").nth(i).get_by_role("button", name="已核验").click()
                expect(page.locator("#verify-table tr").nth(i).locator(".badge-ok")).to_have_text(
                    "已核验"
                )
            expect(page.locator("#missing")).to_be_hidden()  # the receipts are not asked for
            expect(receipts.locator(".badge")).to_have_text("未核验")
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

            # 3. Signing: the co-owner did not come (the owner signs for both, 委托代签): marked
            # so, then every document signed on the pad with the mouse, shown back as images.
            serve("W08")
            buttons = page.locator("#sign-table .p-sign-btn")
            expect(buttons).to_have_count(8)  # 4 documents x 2 co-owners
            co_line = page.locator("#presence .p-owner-line").nth(1)
            co_line.locator("select.p-absent-reason").select_option("proxy_signing")
            co_line.locator("input.p-absent-note").fill("由业主本人持委托书代签")
            co_line.get_by_role("button", name="标记未到场").click()
            expect(co_line.locator(".p-absent")).to_contain_text("未到场 · 委托代签")
            expect(buttons).to_have_count(4)  # the co-owner's signatures are no longer asked
            for i in range(4):
                page.locator("#sign-table .p-sign-btn").first.click()
                _draw(page, ".sig-canvas")
                if i == 3:
                    shot(page, "tablet-sign-pad")
                page.click("#save-signature")
                expect(page.locator("#save-signature")).to_have_count(0)
            expect(page.locator("#sign-table .p-sign-btn")).to_have_count(0)
            thumbs = page.locator("#sign-table img.p-sig-thumb")
            expect(thumbs).to_have_count(4)
            expect(thumbs.first).to_be_visible()
            page.wait_for_function(LOADED, arg="#sign-table img.p-sig-thumb")
            expect(page.locator("#sign-table .badge-warn")).to_have_count(4)  # 未到场 per doc
            expect(page.locator("#missing")).to_be_hidden()
            shot(page, "tablet-sign")
            # The same signing counter on a desk PC in English: the absence and the
            # signatures read in English too.
            desk_ctx = browser.new_context(viewport=DESK, locale="en")
            _login(desk_ctx, base, "staff01", "handover-staff")
            desk = desk_ctx.new_page()
            desk.goto(f"{base}/counter/{counters['W08']}?lang=en&layout=desk")
            expect(desk.locator("#sign-table .badge-warn").first).to_contain_text("Not present")
            desk.wait_for_function(LOADED, arg="#sign-table img.p-sig-thumb")
            desk.screenshot(path=str(ARTIFACTS / "counter-desk-sign-en.png"), full_page=True)
            complete()

            # 4. Inspection: an inspector takes the visit on the inspection tablet app, walks
            # the unit, records the outcome with the owner's signature and completes the step.
            insp_ctx = browser.new_context(
                viewport={"width": 1024, "height": 1366}, locale="zh-CN", has_touch=True
            )
            insp_ctx.set_default_timeout(10_000)
            _login(insp_ctx, base, "staff08", "handover-staff")
            insp = insp_ctx.new_page()
            insp.on("pageerror", lambda e: print("pageerror:", e))
            insp.goto(f"{base}/inspect/")
            insp.locator(".i-team[data-code=Y01] .i-call").click()
            start = insp.locator(".i-team[data-code=Y01] .i-start")
            expect(start).to_contain_text(ticket_no)
            start.click()
            expect(insp.locator("#title")).to_contain_text(ticket_no)
            insp.locator(".i-room[data-room=living] .i-all-ok").click()
            expect(insp.locator(".i-room[data-room=living] .i-seg-btn.on.i-ok")).not_to_have_count(
                0
            )
            insp.click("[data-tab=defects]")
            insp.click("#add-defect")
            insp.select_option("select[name=room]", label="主卧")
            insp.fill("textarea[name=description]", "主卧窗台石材裂纹约15cm")
            insp.set_input_files("input.i-file", _photo(tmp_path / "defect.jpg"))
            expect(insp.locator(".i-draft .i-thumb")).to_have_count(1)
            plan = insp.locator(".i-draft .i-plan-img")
            if plan.count():
                plan.scroll_into_view_if_needed()
                box = plan.bounding_box()
                plan.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.4})
                expect(insp.locator(".i-pin-hint")).to_contain_text("已标注")
            insp.click("#save-defect")
            expect(insp.locator(".i-defect")).to_have_count(1)
            insp.click("[data-tab=known]")
            known = insp.locator(".i-known")
            had_known_issue = known.count() > 0
            if had_known_issue:
                known.first.locator("[data-result=fixed]").click()
                expect(known.first.locator(".i-seg-btn.on")).to_have_text("已整改")
            insp.click("[data-tab=outcome]")
            insp.click("[data-outcome=accepted_with_defects]")
            insp.fill("input[name=promised_date]", "2026-12-31")
            insp.fill("input[name=signer_name]", "业主本人")
            sign_on_tablet(insp)
            insp.click("#save-outcome")
            expect(insp.locator(".i-saved")).to_contain_text("带问题接收", timeout=15_000)
            expect(insp.locator("#sync")).to_have_attribute("data-state", "synced", timeout=20_000)
            insp.click("[data-tab=defects]")
            expect(insp.locator("#complete")).to_be_visible(timeout=15_000)
            insp.screenshot(path=str(ARTIFACTS / "counter-inspect-tablet.png"), full_page=True)
            # The inspection counter's desk screen shows the outcome and the owner's signature.
            desk_y = insp_ctx.new_page()
            desk_y.goto(f"{base}/counter/{counters['Y01']}?layout=desk")
            expect(desk_y.locator("#inspect-result")).to_contain_text("带问题接收")
            expect(desk_y.locator("#inspect-result img.p-sig-thumb")).to_be_visible()
            desk_y.wait_for_function(LOADED, arg="#inspect-result img.p-sig-thumb")
            desk_y.screenshot(path=str(ARTIFACTS / "counter-desk-inspect.png"), full_page=True)
            desk_y.close()
            insp.click("#complete")
            expect(insp.locator("#message")).to_contain_text("验房已完成")

            # The supervisor publishes a standard response; the tablet shows it at once.
            sup = browser.new_context(locale="zh-CN")
            _login(sup, base, "supervisor", "handover-sup")
            sup_page = sup.new_page()
            sup_page.goto(f"{base}/counter/{counters['W02']}")
            sup_page.fill("#resp-topic", "车位租售方案")
            sup_page.fill("#resp-text", "车位销售方案将于交付后一个月内公示，届时业主可优先选购。")
            sup_page.click("#resp-form button[type=submit]")
            expect(page.locator("#resp-new")).to_contain_text("车位租售方案")
            expect(page.locator("#responses")).to_contain_text("车位租售方案")

            # 5. Keys, with a desk PC screen (English) of the same counter following live.
            desk.goto(f"{base}/counter/{counters['W11']}?lang=en&layout=desk")
            serve("W11", key="F1")
            expect(desk.locator("#current-ticket")).to_have_text(ticket_no)  # live, no reload
            expect(desk.locator("#keys-table")).to_be_visible()
            if had_known_issue:  # what the inspector confirmed, not the imported status
                expect(page.locator("#frame")).to_contain_text("已整改")
                expect(page.locator("#frame")).not_to_contain_text("未整改")
            for i, reading in enumerate(("12.5", "308.20", "0.8")):
                page.locator("input.p-reading").nth(i).fill(reading)
            _draw(page, ".sig-canvas")
            shot(page, "tablet-keys")
            desk.screenshot(path=str(ARTIFACTS / "counter-desk-keys-en.png"), full_page=True)
            page.click("#hand-over")
            expect(page.locator("#keys-done")).to_be_visible()
            expect(desk.locator("#keys-done")).to_be_visible()  # the other screen follows
            expect(page.locator("#keys-done img.p-sig-thumb")).to_be_visible()
            page.wait_for_function(LOADED, arg="#keys-done img.p-sig-thumb")
            # The defect list (printed when the outcome came in) and the key receipt.
            jobs = printer.wait_for(2, timeout=15)
            assert len(jobs) == 2 and all(j.startswith(b"\x1b@") for j in jobs)
            shot(page, "tablet-keys-done")
            complete()
            from server.models import Defect, InspectionResult, OwnerAbsence, PrintJob, Visit

            engine = create_engine(db_url)
            with Session(engine) as s:
                assert s.get(Visit, visit_id).status == "finished"
                steps = {vs.step.code: vs.state for vs in s.get(Visit, visit_id).steps}
                assert steps == dict.fromkeys(("verify", "fees", "sign", "inspect", "keys"), "done")
                result = s.scalar(
                    select(InspectionResult).where(InspectionResult.visit_id == visit_id)
                )
                assert (result.outcome, str(result.promised_date)) == (
                    "accepted_with_defects",
                    "2026-12-31",
                )
                assert result.signature_file_id
                defect = s.scalar(select(Defect).where(Defect.visit_id == visit_id))
                assert defect.description == "主卧窗台石材裂纹约15cm" and len(defect.photos) == 1
                absent = s.scalar(select(OwnerAbsence).where(OwnerAbsence.visit_id == visit_id))
                assert (absent.absent, absent.reason) == (True, "proxy_signing")
                jobs = {
                    j.kind: j
                    for j in s.scalars(select(PrintJob).where(PrintJob.visit_id == visit_id))
                }
                assert sorted(jobs) == ["defect_list", "key_receipt"]
                assert {j.state for j in jobs.values()} == {"sent"}
                assert "钥匙交接单" in str(jobs["key_receipt"].payload)
            engine.dispose()
        except Exception:
            for i, pg in enumerate(p for ctx in browser.contexts for p in ctx.pages):
                pg.screenshot(path=str(ARTIFACTS / f"counter-failure-{i}.png"), full_page=True)
            raise
        finally:
            browser.close()
