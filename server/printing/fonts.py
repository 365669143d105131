"""Finding a CJK font for raster receipts and PNG previews.

Order: $HANDOVER_CJK_FONT, then the PyPI package pylopdf-fonts-zh-cn (Noto Sans SC, OFL, a
project dependency so `pip install -e .` is enough on a fresh machine), then Debian's packages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

ENV_VAR = "HANDOVER_CJK_FONT"

# (path, face index in a .ttc): Noto CJK collections hold JP, KR, SC, TC...; index 2 is SC, whose
# glyph shapes are the ones mainland owners expect.
DEBIAN_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)


class FontNotFoundError(RuntimeError):
    pass


_HELP = (
    "未找到中文字体，无法生成图片小票或预览。请执行 `pip install pylopdf-fonts-zh-cn`"
    "（或 `pip install -e .`），或 `apt-get install fonts-noto-cjk`（或 fonts-wqy-zenhei），"
    f"或设置环境变量 {ENV_VAR}=/path/to/font.ttf。\n"
    "No CJK font found for raster receipts and previews. Run `pip install pylopdf-fonts-zh-cn` "
    "(or `pip install -e .`), or `apt-get install fonts-noto-cjk` (or fonts-wqy-zenhei), "
    f"or set {ENV_VAR}=/path/to/font.ttf."
)


@dataclass(frozen=True)
class FontSpec:
    path: Path
    index: int = 0


def _from_package() -> FontSpec | None:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return FontSpec(path) if path.is_file() else None


@lru_cache(maxsize=1)
def find_cjk_font() -> FontSpec:
    env = os.environ.get(ENV_VAR)
    if env:
        path, _, index = env.partition("#")  # "/x/NotoSansCJK.ttc#2" picks a face
        if not Path(path).is_file():
            raise FontNotFoundError(f"{ENV_VAR}={env}: file not found / 文件不存在\n{_HELP}")
        return FontSpec(Path(path), int(index or 0))
    spec = _from_package()
    if spec:
        return spec
    for path, index in DEBIAN_FONTS:
        if Path(path).is_file():
            return FontSpec(Path(path), index)
    raise FontNotFoundError(_HELP)


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    spec = find_cjk_font()
    return ImageFont.truetype(str(spec.path), size=size, index=spec.index)


def clear_cache() -> None:
    """For tests that change the environment."""
    find_cjk_font.cache_clear()
    font.cache_clear()
