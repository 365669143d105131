"""Receipts as data, and their ESC/POS bytes in both Chinese modes."""

from __future__ import annotations

import pytest

from server.printing.decode import raster_images
from server.printing.layout import paper_width_px
from server.printing.receipt import QR, Receipt, Text
from server.printing.receipts import (
    daily_tally_receipt,
    defect_list_receipt,
    format_money,
    key_receipt,
    ticket_receipt,
)
from server.printing.render_escpos import RenderTarget, render_escpos

FS_AND = b"\x1c\x26"
FS_DOT = b"\x1c\x2e"
GS_V0 = b"\x1dv0"
CUT = b"\x1dV\x00"  # python-escpos PAPER_FULL_CUT for the default profile
GS_QR = b"\x1d(k"


def gb(s: str) -> bytes:
    return s.encode("gb18030")


def test_money_uses_fullwidth_yuan():
    assert format_money("1234.5") == "\uffe51,234.50"
    assert "\u00a5" not in format_money(3)


def test_receipt_round_trips_through_json(ticket_data):
    import json

    r = ticket_receipt(ticket_data)
    again = Receipt.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again == r


def test_builders_default_to_chinese_and_speak_english(ticket_data, key_data):
    assert "请扫码查看排队进度" in ticket_receipt(ticket_data).plain_text()
    en = ticket_receipt(ticket_data, locale="en").plain_text()
    assert "Scan to follow" in en and "请扫码" not in en
    assert "Water" in key_receipt(key_data, locale="en").plain_text()


@pytest.mark.parametrize("width", [58, 80])
def test_ticket_native_bytes(ticket_data, width):
    data = render_escpos(ticket_receipt(ticket_data), RenderTarget(width, "native"))
    assert data.startswith(b"\x1b@" + FS_AND)
    assert FS_DOT in data
    assert gb("锦绣花园二期") in data and gb("3栋2单元1201") in data
    assert gb("请扫码查看排队进度") in data
    # The ticket number magnified 6x6 with GS ! (custom size), right before its text.
    assert b"\x1d!\x55" in data and b"A023\n" in data
    assert data.index(b"\x1d!\x55") < data.index(b"A023\n")
    # QR sent as an image (default) and the paper is cut.
    assert GS_V0 in data
    assert data.rstrip(b"\n").endswith(CUT) or CUT in data[-16:]


def test_native_qr_option_sends_gs_k(ticket_data):
    data = render_escpos(ticket_receipt(ticket_data), RenderTarget(80, "native", native_qr=True))
    assert GS_QR in data and ticket_data.status_url.encode() in data
    assert GS_V0 not in data


@pytest.mark.parametrize("width", [58, 80])
def test_ticket_raster_bytes(ticket_data, width):
    data = render_escpos(ticket_receipt(ticket_data), RenderTarget(width, "raster"))
    assert GS_V0 in data
    assert FS_AND not in data
    assert gb("锦绣花园") not in data and gb("排队号") not in data
    assert CUT in data[-16:]
    images = raster_images(data)
    assert {im.width for im in images} == {paper_width_px(width)}
    assert sum(im.height for im in images) > 600


def test_key_receipt_native(key_data):
    data = render_escpos(key_receipt(key_data), RenderTarget(58, "native"))
    assert FS_AND in data
    for s in (
        "钥匙交接",
        "入户门钥匙",
        "水表",
        "电表",
        "燃气表",
        "00012.3",
        "业主已签字确认",
        "李娜",
    ):
        assert gb(s) in data, s
    assert CUT in data[-16:]


def test_defect_list_native(defect_data):
    data = render_escpos(defect_list_receipt(defect_data), RenderTarget(80, "native"))
    for s in ("验房问题清单", "主卧", "空鼓约20cm", "问题共 2 项", "赵工"):
        assert gb(s) in data, s


def test_daily_tally_money_in_gb18030(tally_data):
    data = render_escpos(daily_tally_receipt(tally_data), RenderTarget(58, "native"))
    assert "￥".encode("gb18030") == b"\xa3\xa4"
    assert b"\xa3\xa41,234,567.80" in data
    assert gb("¥") not in data


def test_half_width_yen_is_printed_fullwidth():
    data = render_escpos(Receipt([Text("¥12")]), RenderTarget(58, "native"))
    assert b"\xa3\xa412" in data


def test_huge_text_fits_58mm():
    data = render_escpos(Receipt([Text("B1234", size="huge")]), RenderTarget(58, "native"))
    # 5 ASCII columns of 12 dots: 6x would be 360 dots, fits 384; 7x would not.
    assert b"\x1d!\x55" in data


def test_raster_long_text_not_cut_off_at_58mm():
    long = "请携带身份证原件、购房合同、交房通知书及维修基金缴款凭证到一号窗口办理" * 2
    data = render_escpos(Receipt([Text(long), QR("x" * 200, size=8)]), RenderTarget(58, "raster"))
    assert {im.width for im in raster_images(data)} == {384}


def test_80mm_profile_width():
    assert RenderTarget(80, profile="TM-T88V").width_px == 512
    assert RenderTarget(80, profile="TM-T20II").width_px == 576
    assert RenderTarget(58, profile="TM-T20II").width_px == 384


def test_profile_data_not_shared(ticket_data):
    from server.printing._escpos import get_profile

    before = type(get_profile("TM-T88V")).profile_data["media"]["width"]["pixels"]
    render_escpos(ticket_receipt(ticket_data), RenderTarget(58, "raster", profile="TM-T88V"))
    assert type(get_profile("TM-T88V")).profile_data["media"]["width"]["pixels"] == before


def test_no_cut_without_cutter(ticket_data):
    data = render_escpos(ticket_receipt(ticket_data), RenderTarget(58, "native", profile="ZJ-5870"))
    assert CUT not in data


@pytest.mark.parametrize("size", [(576, 2100), (384, 960), (13, 5)])
def test_gs_v0_bytes_match_python_escpos_image(size):
    # render_escpos writes GS v 0 itself; it must send what python-escpos's image() would.
    import random

    from PIL import Image, ImageChops

    from server.printing._escpos import printer
    from server.printing.render_escpos import _send_ink

    rnd = random.Random(size[1])
    page = Image.frombytes("L", size, bytes(rnd.choice((0, 255)) for _ in range(size[0] * size[1])))
    page = page.convert("1")
    theirs = printer.Dummy()
    theirs.image(page)
    ours = printer.Dummy()
    _send_ink(ours, ImageChops.invert(page))
    assert ours.output == theirs.output


def test_native_wrap_is_the_generic_wrap_by_columns():
    # _wrap_cols and cols_of are fast paths of _wrap(text, <1 column per ASCII character, 2 per
    # other>, cols); both must give exactly the lines the plain definition gives.
    import random

    from server.printing.layout import _wrap, _wrap_cols, cols_of

    def plain_cols(text: str) -> int:
        return sum(1 if ord(ch) < 0x80 else 2 for ch in text)

    pieces = [*"ab cd  ,;→、，；\n¥é\x7f\x80", "排", "队", "号", "\U0001f600", "   ", "x" * 12]
    rnd = random.Random(6)
    for _ in range(800):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 80)))
        assert cols_of(text) == plain_cols(text)
        for cols in (1, 2, 5, 16, 32, 48):
            assert _wrap_cols(text, cols) == _wrap(text, plain_cols, cols), (text, cols)


@pytest.mark.parametrize("width", [384, 576, 512, 510])
def test_qr_print_rows_are_the_qr_image_centred(width):
    # The native mode sends the QR's rows built straight from its modules; they must be the
    # preview's qr_image() centred on the paper and thresholded, as it sent before.
    from PIL import Image

    from server.printing.layout import qr_image, qr_print_rows

    for text, box in (("a", 1), ("http://192.168.1.10:5000/s/Zx8kQ2mPa7LrT0vWbN3cYhJ4", 6)):
        img = qr_image(text, box)
        page = Image.new("L", (width, img.height), 255)
        page.paste(img, ((width - img.width) // 2, 0))
        ink = page.point(lambda v: 255 if v < 128 else 0, mode="1")
        assert qr_print_rows(text, box, width) == ink.tobytes()
