"""Reading ESC/POS bytes back: the raster images they carry (GS v 0), for tests and previews of
exactly what a printer was sent."""

from __future__ import annotations

from PIL import Image

GS_V0 = b"\x1dv0"


def raster_images(data: bytes) -> list[Image.Image]:
    """Every GS v 0 image in the stream, black = printed dot."""
    images = []
    i = 0
    while (i := data.find(GS_V0, i)) != -1:
        w_bytes = data[i + 4] | data[i + 5] << 8
        height = data[i + 6] | data[i + 7] << 8
        start = i + 8
        bits = data[start : start + w_bytes * height]
        img = Image.frombytes("1", (w_bytes * 8, height), bits)
        # ESC/POS: 1 = burn a dot; PIL "1": 1 = white. Invert for a paper-like picture.
        images.append(Image.eval(img.convert("L"), lambda v: 255 - v))
        i = start + len(bits)
    return images


def raster_page(data: bytes) -> Image.Image | None:
    """The stream's images stacked as they come out of the printer."""
    images = raster_images(data)
    if not images:
        return None
    page = Image.new("L", (max(im.width for im in images), sum(im.height for im in images)), 255)
    y = 0
    for im in images:
        page.paste(im, (0, y))
        y += im.height
    return page
