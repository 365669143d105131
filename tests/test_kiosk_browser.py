"""The kiosk and the owner's phone in Debian's Chromium: Chinese glyphs from the web font on a
machine without CJK fonts, scanner input, the "no notice" lookup, the idle reset, the status
page following a call live. Screenshots of both kiosk orientations and languages and of a
notice page go to test-artifacts/."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.test_browser import (  # one live demo server for this module (module-scoped fixture)
    ARTIFACTS,
    CHROMIUM,
    STAFF,
    _verify_counter_id,
    live_server,  # noqa: F401
)

pytestmark = pytest.mark.browser
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


def _units_due_today(db_url: str, n: int) -> list[tuple[int, str, str, str, int, str]]:
    """(unit id, room, entrance, building name, floor, owner phone) of today's first slot."""
    from server import clock
    from server.models import Appointment, Building, Unit

    clock.set_timezone("Asia/Shanghai")
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            units = s.scalars(
                select(Unit)
                .join(Appointment, Appointment.unit_id == Unit.id)
                .join(Building, Building.id == Unit.building_id)
                .where(Appointment.day == clock.today())
                .order_by(Appointment.slot_start, Unit.id)
                .limit(n)
            ).all()
            return [
                (u.id, u.room, u.entrance, u.building.name, u.floor, u.owners[0].owner.phone)
                for u in units
            ]
    finally:
        engine.dispose()


def _signed(live, unit_id: int) -> str:
    from server.config import instance_secret_key
    from server.services import notice_codes

    return notice_codes.sign(instance_secret_key(live.instance), "CHTD2", unit_id)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def staff_context(browser, live_server):  # noqa: F811
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.goto(f"{live_server.base}/login")
    page.fill("#username", STAFF[0])
    page.fill("#password", STAFF[1])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.base}/admin/")
    page.close()
    yield ctx
    ctx.close()


def test_chinese_renders_from_the_web_font_without_system_cjk_fonts(staff_context, live_server):  # noqa: F811
    page = staff_context.new_page()
    page.goto(f"{live_server.base}/kiosk/")
    page.evaluate("document.fonts.ready")
    faces = page.evaluate("[...document.fonts].map(f => [f.family, f.status])")
    assert ['"HD Sans SC"', "loaded"] in [
        [f if f.startswith('"') else f'"{f}"', st] for f, st in faces
    ]
    widths = page.evaluate(
        """() => {
          const text = "交房签到请扫描";
          const probe = (family) => {
            const s = document.createElement("span");
            s.style.cssText = `font: 40px ${family}; position: absolute; white-space: nowrap`;
            s.textContent = text;
            document.body.appendChild(s);
            const w = s.getBoundingClientRect().width;
            s.remove();
            return w;
          };
          return {page: probe(getComputedStyle(document.body).fontFamily), plain: probe("serif")};
        }"""
    )
    # Hanzi are square: 7 of them at 40px are 280px wide. Tofu boxes (or a system CJK font,
    # where there is one) give another width; on this machine `serif` has no CJK glyphs at all.
    assert abs(widths["page"] - 280) < 3, widths
    has_system_cjk = subprocess.run(
        ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not has_system_cjk:
        assert abs(widths["plain"] - 280) > 20, widths
    page.close()


def test_scanner_input_confirm_ticket_and_the_phone_follows_the_call(
    browser,
    staff_context,
    live_server,  # noqa: F811
):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    unit_id = _units_due_today(live_server.db_url, 1)[0][0]
    kiosk = staff_context.new_page()
    kiosk.goto(f"{live_server.base}/kiosk/")
    expect(kiosk.locator("#code")).to_be_focused()
    # A 2D scanner is a keyboard: it types the code and Enter into the focused field.
    kiosk.keyboard.type(_signed(live_server, unit_id))
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#confirm")).to_be_visible()
    expect(kiosk.locator("#c-owner")).to_have_text(re.compile(r"^.\*+.?$"))
    expect(kiosk.locator("#c-slot")).to_contain_text("09:00")
    kiosk.click("#c-ok")
    expect(kiosk.locator("#t-no")).to_have_text(re.compile(r"^A\d{3}$"))
    ticket_no = kiosk.locator("#t-no").inner_text()
    assert "0 分钟" not in kiosk.locator("#t-wait").inner_text()
    status_url = kiosk.evaluate(
        "new URL(document.getElementById('t-qr').src).searchParams.get('data')"
    )

    # The same notice again: the same number, never a second one.
    kiosk.click("#done")
    kiosk.keyboard.type(_signed(live_server, unit_id))
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#t-again")).to_be_visible()
    expect(kiosk.locator("#t-no")).to_have_text(ticket_no)
    kiosk.click("#done")

    # The owner's phone, then the counter calls: the page changes by itself, with an alert.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    owner = phone.new_page()
    owner.goto(status_url)
    expect(owner.locator("#ticket-no")).to_have_text(ticket_no)
    expect(owner.locator("#now")).to_contain_text("等候")
    owner.click("#alerts")
    expect(owner.locator("#alerts-on")).to_be_visible()
    owner.evaluate("window.__notReloaded = true")
    counter = staff_context.new_page()
    counter.goto(f"{live_server.base}/counter/{_verify_counter_id(live_server.db_url)}")
    expect(counter.locator("#act-call")).to_be_enabled()
    counter.click("#act-call")
    expect(owner.locator("#now")).to_contain_text("请到", timeout=5_000)
    expect(owner.locator("#now .s-where")).to_contain_text("售楼处")
    assert owner.evaluate("window.__notReloaded") is True
    assert owner.evaluate("document.body.dataset.alerted") == "1"
    owner.wait_for_timeout(5000)  # the pulse ends before the picture
    owner.screenshot(path=str(ARTIFACTS / "status-called-location.png"))
    phone.close()
    counter.close()
    kiosk.close()


def test_manual_lookup_then_idle_timeout_clears_everything(staff_context, live_server):  # noqa: F811
    from playwright.sync_api import expect

    _uid, room, entrance, building, floor, phone_no = _units_due_today(live_server.db_url, 3)[2]
    kiosk = staff_context.new_page()
    kiosk.goto(f"{live_server.base}/kiosk/")
    kiosk.click("#go-manual")
    kiosk.get_by_role("button", name=building, exact=True).click()
    kiosk.get_by_role("button", name=f"{entrance}单元", exact=True).click()
    kiosk.locator("#m-choices").get_by_role("button", name=str(floor), exact=True).click()
    kiosk.locator("#m-choices").get_by_role("button", name=room, exact=True).click()
    expect(kiosk.locator("#m-submit")).to_be_disabled()
    for digit in phone_no[-4:]:
        kiosk.locator("#m-pad").get_by_role("button", name=digit, exact=True).click()
    kiosk.click("#m-submit")
    expect(kiosk.locator("#confirm")).to_be_visible()
    expect(kiosk.locator("#c-unit")).to_have_text(f"{building}{entrance}单元{room}")
    # Nobody touches the screen: back to the start with nothing personal left.
    kiosk.evaluate(
        "window.HANDOVER.idle_seconds = 1; document.body.dispatchEvent(new Event('pointerdown', {bubbles: true}))"
    )
    expect(kiosk.locator("body")).to_have_attribute("data-screen", "idle", timeout=4_000)
    assert (
        kiosk.locator("#c-owner").inner_text() == "" and kiosk.locator("#c-unit").inner_text() == ""
    )
    assert kiosk.locator("#m-crumbs li").count() == 0
    expect(kiosk.locator("#code")).to_be_focused()
    kiosk.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kiosk_screens_in_both_orientations(browser, staff_context, live_server, lang):  # noqa: F811
    from playwright.sync_api import expect

    unit_id = _units_due_today(live_server.db_url, 6)[4 if lang == "zh" else 5][0]
    page = staff_context.new_page()
    query = "?lang=en" if lang == "en" else ""
    for shape, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.goto(f"{live_server.base}/kiosk/{query}")
        page.evaluate("document.fonts.ready")
        # Laid out for the shape: the start screen's content spans most of the height/width.
        box = page.evaluate(
            "(() => { const r = [...document.querySelectorAll('#idle > *')].map(e => e.getBoundingClientRect());"
            " return {top: Math.min(...r.map(x => x.top)), bottom: Math.max(...r.map(x => x.bottom)),"
            " left: Math.min(...r.map(x => x.left)), right: Math.max(...r.map(x => x.right))}; })()"
        )
        if shape == "portrait":
            assert box["bottom"] - box["top"] > 0.5 * h, box
        else:
            assert box["right"] - box["left"] > 0.6 * w, box
        page.screenshot(path=str(ARTIFACTS / f"kiosk-idle-{shape}-{lang}.png"))
        page.keyboard.type(_signed(live_server, unit_id))
        page.keyboard.press("Enter")
        # First time: "is this you?"; the second shape: the same ticket again.
        screen = re.compile("^(confirm|ticket)$")
        expect(page.locator("body")).to_have_attribute("data-screen", screen)
        if page.locator("body").get_attribute("data-screen") == "confirm":
            page.click("[data-need=elderly]")
            page.screenshot(path=str(ARTIFACTS / f"kiosk-confirm-{shape}-{lang}.png"))
            page.click("#c-ok")
        expect(page.locator("#t-no")).to_have_text(re.compile(r"^A\d{3}$"))
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"kiosk-ticket-{shape}-{lang}.png"))
        page.click("#done")
    page.goto(f"{live_server.base}/kiosk/?lang=zh_CN")  # the language sticks to the session
    page.close()


def test_notice_pdf_page_picture(browser, live_server):  # noqa: F811
    """For looking at: the first page of today's notices as PNG (when poppler is installed)."""
    from playwright.sync_api import expect

    from server import clock

    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{live_server.base}/login")
    page.fill("#username", "supervisor")
    page.fill("#password", "handover-sup")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.base}/admin/")
    page.click("a[href$='/admin/notices']")
    expect(page.locator("table.grid")).to_contain_text("第一批")
    r = page.request.get(
        f"{live_server.base}/admin/notices.pdf?day={clock.today().isoformat()}&preview=1"
    )
    assert r.status == 200 and r.body()[:4] == b"%PDF"
    pdf = ARTIFACTS / "notices-preview.pdf"
    pdf.write_bytes(r.body())
    ctx.close()
    if shutil.which("pdftoppm"):
        out = ARTIFACTS / "notice-page"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-png",
                "-singlefile",
                str(pdf),
                str(out),
            ],
            check=True,
            timeout=60,
        )
        assert out.with_suffix(".png").stat().st_size > 10_000


def test_vendored_qr_decoder_reads_a_signed_notice_code(staff_context, live_server):  # noqa: F811
    """What the tablet camera path relies on: jsQR decodes the code a notice carries."""
    code = _signed(live_server, _units_due_today(live_server.db_url, 1)[0][0])
    page = staff_context.new_page()
    page.goto(f"{live_server.base}/kiosk/")
    page.add_script_tag(url=f"{live_server.base}/kiosk/static/vendor/jsQR.js")
    decoded = page.evaluate(
        """async (src) => {
          const img = new Image();
          img.src = src;
          await img.decode();
          const c = document.createElement("canvas");
          c.width = c.height = 400;
          const ctx = c.getContext("2d");
          ctx.fillStyle = "#fff";
          ctx.fillRect(0, 0, 400, 400);
          ctx.drawImage(img, 40, 40, 320, 320);
          const data = ctx.getImageData(0, 0, 400, 400);
          const found = window.jsQR(data.data, 400, 400);
          return found && found.data;
        }""",
        f"{live_server.base}/kiosk/qr.svg?data={code}",
    )
    assert decoded == code
    page.close()


def test_staff_confirm_priority_needs_marked_at_the_kiosk(staff_context, live_server):  # noqa: F811
    from playwright.sync_api import expect

    unit_id = _units_due_today(live_server.db_url, 8)[7][0]
    kiosk = staff_context.new_page()
    kiosk.goto(f"{live_server.base}/kiosk/?lang=zh_CN")
    kiosk.keyboard.type(_signed(live_server, unit_id))
    kiosk.keyboard.press("Enter")
    kiosk.click("[data-need=pregnant]")
    kiosk.click("#c-ok")
    expect(kiosk.locator("#t-no")).to_have_text(re.compile(r"^A\d{3}$"))
    ticket_no = kiosk.locator("#t-no").inner_text()
    kiosk.close()

    desk = staff_context.new_page()
    desk.goto(f"{live_server.base}/priority?lang=zh_CN")
    row = desk.locator("#requests tr", has_text=ticket_no)
    expect(row).to_contain_text("孕妇")
    row.get_by_role("button", name="确认优先").click()
    expect(row).to_have_count(0)
    desk.close()


def _y4m_of_qr(text: str, path: Path) -> None:
    """A fake camera: a still picture of a notice's QR code as a two-frame Y4M video."""
    import qrcode
    from PIL import Image

    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(qrcode.make(text, border=4).convert("RGB").resize((400, 400)), (120, 40))
    y, cb, cr = frame.convert("YCbCr").split()
    with path.open("wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(2):
            f.write(b"FRAME\n" + y.tobytes())
            f.write(cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes())


def test_tablet_camera_scans_the_notice(browser, live_server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    unit_id, room, entrance, building, _floor, _phone = _units_due_today(live_server.db_url, 9)[8]
    video = tmp_path / "qr.y4m"
    _y4m_of_qr(_signed(live_server, unit_id), video)
    camera_args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A second Chromium with a fake camera, from the same Playwright driver.
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=ARGS + camera_args)
    try:
        ctx = b.new_context(viewport={"width": 1080, "height": 1920}, permissions=["camera"])
        page = ctx.new_page()
        page.goto(f"{live_server.base}/login")
        page.fill("#username", STAFF[0])
        page.fill("#password", STAFF[1])
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{live_server.base}/admin/")
        page.goto(f"{live_server.base}/kiosk/?lang=zh_CN")
        page.click("#go-camera")
        expect(page.locator("#c-unit")).to_have_text(
            f"{building}{entrance}单元{room}", timeout=15_000
        )
    finally:
        b.close()
