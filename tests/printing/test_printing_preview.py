"""PNG previews: paper width respected, the ticket's QR decodes back to the status URL."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from server.printing import fonts
from server.printing.decode import raster_page
from server.printing.receipts import ticket_receipt
from server.printing.render_escpos import RenderTarget, render_escpos
from server.printing.render_png import render_png


def _decoded(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img.convert("L"))]


@pytest.mark.parametrize("mode", ["raster", "native"])
@pytest.mark.parametrize("width,px", [(58, 384), (80, 576)])
def test_ticket_preview_qr_decodes(ticket_data, mode, width, px):
    url = ticket_data.status_url
    img = Image.open(io.BytesIO(render_png(ticket_receipt(ticket_data), width, mode)))
    assert img.width == px
    assert url in _decoded(img)


@pytest.mark.parametrize("width", [58, 80])
def test_bytes_sent_in_raster_mode_decode(ticket_data, width):
    url = ticket_data.status_url
    page = raster_page(render_escpos(ticket_receipt(ticket_data), RenderTarget(width, "raster")))
    assert url in _decoded(page)


def test_missing_font_error_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "nope.ttf"))
    fonts.clear_cache()
    try:
        with pytest.raises(fonts.FontNotFoundError) as e:
            fonts.find_cjk_font()
        assert "pip install" in str(e.value) and "中文字体" in str(e.value)
    finally:
        monkeypatch.delenv(fonts.ENV_VAR)
        fonts.clear_cache()
